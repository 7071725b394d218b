package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/claire-de-binare/cdb-setup/internal/exitcode"
	"github.com/claire-de-binare/cdb-setup/internal/platform"
	"github.com/claire-de-binare/cdb-setup/internal/testenv"
)

// memLimit is the data-segment limit (prlimit --data) of the bounded-memory
// runs: it counts what the Go heap really maps writable (an address-space
// limit, --as, also counts the runtime's PROT_NONE reservations and makes
// the runtime fail to start at some sizes). This binary runs in about
// 150 MiB; reading a 1 GB file whole does not fit.
const memLimit = 384 << 20

// buildPlain builds cdb-setup without the race detector (CGO_ENABLED=0, like
// the released binary) into a temp dir of t: a -race test binary maps the
// detector's shadow memory and its threads cannot even start under memLimit.
func buildPlain(t *testing.T) string {
	t.Helper()
	exe := filepath.Join(testenv.TempDir(t), "cdb-setup")
	cmd := exec.Command(testenv.NeedCommand(t, "go"), "build", "-o", exe, "github.com/claire-de-binare/cdb-setup/cmd/cdb-setup")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return exe
}

// selfCmd runs cdb-setup with env as its whole environment: this test binary
// (TestMain), or, when limited is a path, that binary under prlimit.
func selfCmd(t *testing.T, ctx context.Context, env platform.MapEnvironment, limited string, args ...string) *exec.Cmd {
	t.Helper()
	var cmd *exec.Cmd
	if limited != "" {
		prlimit := testenv.NeedCommand(t, "prlimit")
		cmd = exec.CommandContext(ctx, prlimit, append([]string{fmt.Sprintf("--data=%d", memLimit), limited}, args...)...)
	} else {
		exe, err := os.Executable()
		if err != nil {
			t.Fatal(err)
		}
		cmd = exec.CommandContext(ctx, exe, args...)
	}
	cmd.Env = append(env.Environ(), "CDB_SETUP_TEST_BE_MAIN=1")
	return cmd
}

func runSelf(t *testing.T, env platform.MapEnvironment, limited string, args ...string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := selfCmd(t, ctx, env, limited, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		return ee.ExitCode(), out.String()
	case err != nil:
		t.Fatalf("%v: %v", args, err)
	}
	return 0, out.String()
}

// Issue 13 item 3: --set X=@/dev/zero and a 1 GB secret file end with a
// clear error naming the file and its size, in bounded memory.
func TestSecretReadsAreCapped(t *testing.T) {
	env, home := fixtureEnv(t)
	dir := filepath.Join(home, "s")
	plain := buildPlain(t)

	code, out := runSelf(t, env, plain, "secrets", "init", "--no-input", "--secrets-path", dir, "--set", "SMTP_PASSWORD=@/dev/zero")
	if code != exitcode.Usage || !strings.Contains(out, "/dev/zero") || !strings.Contains(out, "65536 bytes") {
		t.Fatalf("--set @/dev/zero: exit %d\n%s", code, out)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the secrets folder was created although the input was refused")
	}

	if code, out := runSelf(t, env, "", "secrets", "init", "--no-input", "--secrets-path", dir); code != 0 {
		t.Fatalf("init: exit %d\n%s", code, out)
	}
	// A sparse 1 GB file takes no disk space but reads as 1 GB of zeros.
	big := filepath.Join(dir, "GRAFANA_PASSWORD")
	if err := os.Truncate(big, 1<<30); err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("%s is %d bytes", big, 1<<30)
	for _, args := range [][]string{
		{"secrets", "check"},
		{"doctor"},
		{"secrets", "fix", "--yes"},
	} {
		code, out := runSelf(t, env, plain, append(args, "--secrets-path", dir)...)
		if code != exitcode.Failed || !strings.Contains(out, want) || strings.Contains(out, "out of memory") {
			t.Errorf("%v with a 1 GB secret: exit %d, want 1 and %q\n%s", args, code, want, out)
		}
	}
	if st, err := os.Stat(big); err != nil || st.Size() != 1<<30 {
		t.Errorf("the oversized file was changed: %v", err)
	}
}

// Issue 13 item 4: a --set read that blocks (a FIFO with no writer, a pipe
// that stays open) ends on Ctrl-C with exit 130, nothing written.
func TestBlockedSetReadInterrupted(t *testing.T) {
	for _, tc := range []string{"fifo", "stdin"} {
		t.Run(tc, func(t *testing.T) {
			env, home := fixtureEnv(t)
			dir := filepath.Join(home, "s")
			src := "@-"
			if tc == "fifo" {
				fifo := filepath.Join(home, "value.fifo")
				if err := syscall.Mkfifo(fifo, 0o600); err != nil {
					t.Fatal(err)
				}
				src = "@" + fifo
			}
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			cmd := selfCmd(t, ctx, env, "", "secrets", "init", "--no-input", "--secrets-path", dir, "--set", "SMTP_PASSWORD="+src)
			// A pipe whose writer stays open: `sleep 60 | cdb-setup ...`.
			pr, pw, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			defer pw.Close()
			cmd.Stdin = pr
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			pr.Close()
			// The process is blocked in the read only once it runs; signals
			// sent before its handler is installed would kill it outright, so
			// wait until it is asleep in the kernel (no timing assertion).
			waitBlocked(t, cmd.Process.Pid)
			if err := cmd.Process.Signal(os.Interrupt); err != nil {
				t.Fatal(err)
			}
			err = cmd.Wait()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != exitcode.Interrupted {
				t.Fatalf("exit %v, want %d\n%s", err, exitcode.Interrupted, out.String())
			}
			if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
				t.Fatalf("something was written after the interrupt")
			}
			if !strings.Contains(out.String(), "nothing was written") {
				t.Errorf("output: %s", out.String())
			}
		})
	}
}

// waitBlocked waits until every thread of pid sleeps and the Go runtime has
// installed its SIGINT handler (SigCgt in /proc/pid/status).
func waitBlocked(t *testing.T, pid int) {
	t.Helper()
	for i := 0; ; i++ {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
		if err != nil {
			t.Fatalf("process gone: %v", err)
		}
		if caught(string(b)) && strings.Contains(string(b), "State:\tS") {
			// Give the main goroutine its chance to reach the read: it
			// sleeps in open(2)/read(2) and the status stays S.
			if i > 20 {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func caught(status string) bool {
	for _, l := range strings.Split(status, "\n") {
		if v, ok := strings.CutPrefix(l, "SigCgt:\t"); ok {
			var mask uint64
			fmt.Sscanf(v, "%x", &mask)
			return mask&(1<<(uint(syscall.SIGINT)-1)) != 0
		}
	}
	return false
}
