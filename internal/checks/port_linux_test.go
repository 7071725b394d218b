package checks

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/claire-de-binare/cdb-setup/internal/stack"
	"github.com/claire-de-binare/cdb-setup/internal/testenv"
)

func TestMain(m *testing.M) {
	// Re-exec'd as "docker-proxy": listen, print the port, wait for stdin to close.
	if os.Getenv("CDB_TEST_LISTEN") == "1" {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			os.Exit(1)
		}
		fmt.Println(ln.Addr().(*net.TCPAddr).Port)
		_, _ = io.Copy(io.Discard, os.Stdin)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// Issue 14: with the Engine unreachable, a port held by docker-proxy is a
// container's that cannot be named; the fix never says to kill the proxy.
// The process is this test binary copied as "docker-proxy" (what the check
// reads is the process name; a real Engine's proxy would need the Engine
// this test says is unreachable). The reachable case is
// TestPortsFreeNamesTheHolder's container path in up's e2e tests.
func TestPortHeldByDockerProxyIsNeverKilled(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	proxy := filepath.Join(testenv.TempDir(t), "docker-proxy")
	b, err := os.ReadFile(self)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(proxy, b, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(proxy)
	cmd.Env = append(os.Environ(), "CDB_TEST_LISTEN=1")
	stdin, _ := cmd.StdinPipe()
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { stdin.Close(); _ = cmd.Wait() }()
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	var port int
	if _, err := fmt.Sscan(strings.TrimSpace(line), &port); err != nil {
		t.Fatal(err)
	}
	p := &Preflight{Engine: &Engine{}, Rerun: "cdb-setup up", Ports: []stack.Port{{Service: "cdb_redis", HostIP: "127.0.0.1", Port: port, Proto: "tcp"}}}
	r := p.portsFree(context.Background())
	if r.Status != Fail || !strings.Contains(r.Detail, fmt.Sprintf("docker-proxy (pid %d) for a Docker container; which one cannot be told", cmd.Process.Pid)) {
		t.Fatalf("%+v", r)
	}
	if strings.Contains(r.Fix, "kill") && !strings.Contains(r.Fix, "never kill docker-proxy") || strings.Contains(r.Fix, "Stop-Process") || strings.Contains(r.Detail, "another project") {
		t.Errorf("fix: %s", r.Fix)
	}
	if !strings.Contains(r.Fix, "make the Docker Engine reachable") {
		t.Errorf("fix: %s", r.Fix)
	}
}

func TestStopProcessHintPID(t *testing.T) {
	if h := stopProcessHint("linux", 80, "nginx (pid 42): something"); !strings.Contains(h, "`kill 42`") {
		t.Errorf("%s", h)
	}
}
