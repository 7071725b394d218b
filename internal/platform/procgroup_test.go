//go:build !windows

package platform

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/claire-de-binare/cdb-setup/internal/testenv"
)

// Issue 13 item 13: env status runs the user's shells; a .bashrc that
// starts `sleep 300` in the background (or hangs past the timeout) must not
// leave processes behind with PPID 1.
func TestProbeShellsKillsTheProcessGroup(t *testing.T) {
	bash := testenv.NeedCommand(t, "bash")
	home := t.TempDir()
	rc := `sleep 300 & echo $! > "$HOME/bg.pid"
if [ -f "$HOME/hang" ]; then sleep 301 & echo $! > "$HOME/fg.pid"; wait; fi
`
	for _, f := range []string{".bashrc", ".bash_profile"} {
		if err := os.WriteFile(filepath.Join(home, f), []byte(rc), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	env := MapEnvironment{"HOME": home, "PATH": filepath.Dir(bash) + ":/usr/bin:/bin"}
	o := StatusOptions{Facts: Facts{OS: "linux", Home: home}, Env: env,
		LookPath: func(n string) (string, error) {
			if n == "bash" {
				return bash, nil
			}
			return "", fmt.Errorf("%s: %w", n, os.ErrNotExist)
		}}
	ProbeShells(context.Background(), o)
	waitGone(t, readPid(t, filepath.Join(home, "bg.pid")))

	// A shell that hangs until the timeout: the group goes with it.
	os.WriteFile(filepath.Join(home, "hang"), nil, 0o644)
	o.Timeout = 2 * time.Second
	views := ProbeShells(context.Background(), o)
	if len(views) == 0 || !strings.Contains(views[0].Error, "did not finish") {
		t.Fatalf("hanging shell: %+v", views)
	}
	waitGone(t, readPid(t, filepath.Join(home, "fg.pid")))
}

func readPid(t *testing.T, p string) int {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("the rc file did not run: %v", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	// When the test fails, its own sleeper is still ended (by pid).
	t.Cleanup(func() { _ = syscall.Kill(pid, syscall.SIGKILL) })
	return pid
}

// waitGone waits until pid has exited (gone, or a zombie nobody reaped yet);
// a kill is asynchronous, so this polls, bounded by a generous deadline.
func waitGone(t *testing.T, pid int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			return
		}
		if f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:])); len(f) > 0 && f[0] == "Z" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("process %d (%s) still runs after env status returned", pid, strings.Fields(string(b))[1])
		}
		time.Sleep(50 * time.Millisecond)
	}
}
