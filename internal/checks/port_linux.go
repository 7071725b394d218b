package checks

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// processHolding names the process listening on port, from /proc: the
// socket's inode in /proc/net/tcp{,6}, then the process whose fd points at
// it. Other users' processes are only visible to root; then the answer
// says so.
func processHolding(port int) string {
	inodes := map[string]bool{}
	for _, f := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		for _, ino := range listenInodes(f, port) {
			inodes[ino] = true
		}
	}
	if len(inodes) == 0 {
		return "another process"
	}
	procs, _ := filepath.Glob("/proc/[0-9]*/fd/*")
	for _, fd := range procs {
		link, err := os.Readlink(fd)
		if err != nil || !strings.HasPrefix(link, "socket:[") {
			continue
		}
		if inodes[strings.TrimSuffix(strings.TrimPrefix(link, "socket:["), "]")] {
			pid := strings.Split(fd, "/")[2]
			comm, _ := os.ReadFile("/proc/" + pid + "/comm")
			name := strings.TrimSpace(string(comm))
			if name == "docker-proxy" {
				// The Engine's port proxy: a container publishes the port,
				// but this run could not ask the Engine which (it may be
				// this project's own). Killing it would break Docker.
				return fmt.Sprintf("%s (pid %s) for a Docker container; which one cannot be told: the Docker Engine is not reachable", dockerProxy, pid)
			}
			return fmt.Sprintf("%s (pid %s)", name, pid)
		}
	}
	return "another process (not visible to this user; `sudo ss -ltnp` names it)"
}

func listenInodes(file string, port int) []string {
	f, err := os.Open(file)
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Scan() // header
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 10 || fields[3] != "0A" { // 0A = LISTEN
			continue
		}
		_, hexPort, ok := strings.Cut(fields[1], ":")
		if !ok {
			continue
		}
		p, err := strconv.ParseInt(hexPort, 16, 32)
		if err == nil && int(p) == port {
			out = append(out, fields[9])
		}
	}
	return out
}
