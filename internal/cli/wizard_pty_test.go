//go:build !windows

package cli

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"

	"github.com/claire-de-binare/cdb-setup/internal/setup"
	"github.com/claire-de-binare/cdb-setup/internal/testenv"
)

// ptyTerm drives cdb-setup through a real pseudo-terminal: it answers the
// terminal queries Bubble Tea sends (background colour, cursor position;
// unanswered, the first prompt waits ~5 s), records everything written, and
// waits for text to appear rather than sleeping.
type ptyTerm struct {
	t    *testing.T
	pty  *os.File
	cmd  *exec.Cmd
	mu   sync.Mutex
	raw  bytes.Buffer
	mark int // WaitFor looks only after this offset of the plain text
	done chan struct{}
	err  error
}

var ansiRe = regexp.MustCompile(`\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(\x07|\x1b\\)|\x1b[()][A-Z0-9]|\x1b[=>78]`)

func startTerm(t *testing.T, env []string, args ...string) *ptyTerm {
	t.Helper()
	return startTermSize(t, 40, 100, env, args...)
}

func startTermSize(t *testing.T, rows, cols uint16, env []string, args ...string) *ptyTerm {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, args...)
	cmd.Env = append(env, "CDB_SETUP_TEST_BE_MAIN=1")
	f, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: rows, Cols: cols})
	testenv.Need(t, err == nil, "a pseudo-terminal (/dev/ptmx)")
	tm := &ptyTerm{t: t, pty: f, cmd: cmd, done: make(chan struct{})}
	readDone := make(chan struct{})
	go func() { tm.read(); close(readDone) }()
	// done closes once the process has exited and everything it wrote has
	// been read (the reader stops at EIO when the terminal's last user
	// closes it).
	go func() { tm.err = cmd.Wait(); <-readDone; close(tm.done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-tm.done
		f.Close()
	})
	return tm
}

func (tm *ptyTerm) read() {
	buf := make([]byte, 4096)
	scanned := 0 // raw offset up to which queries have been answered
	queries := []struct{ q, reply string }{
		{"\x1b]11;?", "\x1b]11;rgb:0000/0000/0000\x1b\\"},
		{"\x1b[6n", "\x1b[1;1R"},
	}
	for {
		n, err := tm.pty.Read(buf)
		if n > 0 {
			tm.mu.Lock()
			tm.raw.Write(buf[:n])
			raw := tm.raw.String()
			tm.mu.Unlock()
			// Answer every query in the order it was asked: termenv sends
			// the colour query, then a cursor query as a sentinel, and
			// takes a cursor reply that comes first to mean "no colour
			// support" — the late colour reply would then be typed into
			// the first input field.
			for {
				next, at := -1, len(raw)
				for i, q := range queries {
					if j := strings.Index(raw[scanned:], q.q); j >= 0 && scanned+j < at {
						next, at = i, scanned+j
					}
				}
				if next < 0 {
					// Keep a partial query at the end for the next chunk.
					scanned = max(scanned, len(raw)-8)
					break
				}
				tm.pty.WriteString(queries[next].reply)
				scanned = at + len(queries[next].q)
			}
		}
		if err != nil {
			return
		}
	}
}

func (tm *ptyTerm) plain() string {
	tm.mu.Lock()
	defer tm.mu.Unlock()
	return ansiRe.ReplaceAllString(tm.raw.String(), "")
}

func (tm *ptyTerm) rawText() string {
	tm.mu.Lock()
	defer tm.mu.Unlock()
	return tm.raw.String()
}

// WaitFor waits until text appears after the last mark, then moves the mark
// past it. The deadline only turns a hang into a failure with the screen.
func (tm *ptyTerm) WaitFor(text string) {
	tm.t.Helper()
	deadline := time.After(60 * time.Second)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		p := tm.plain()
		if i := strings.Index(p[min(tm.mark, len(p)):], text); i >= 0 {
			tm.mark += i + len(text)
			return
		}
		select {
		case <-deadline:
			tm.t.Fatalf("waited for %q; the terminal shows:\n%s\n---- since the last match:\n%s", text, p, p[min(tm.mark, len(p)):])
		case <-tm.done:
			p := tm.plain()
			if strings.Contains(p[min(tm.mark, len(p)):], text) {
				continue
			}
			tm.t.Fatalf("cdb-setup exited (%v) before showing %q:\n%s", tm.err, text, p)
		case <-tick.C:
		}
	}
}

func (tm *ptyTerm) Send(keys string) {
	tm.t.Helper()
	if _, err := tm.pty.WriteString(keys); err != nil {
		tm.t.Fatal(err)
	}
}

func (tm *ptyTerm) Exit() int {
	tm.t.Helper()
	select {
	case <-tm.done:
	case <-time.After(60 * time.Second):
		tm.t.Fatalf("cdb-setup did not exit; the terminal shows:\n%s", tm.plain())
	}
	var ee *exec.ExitError
	if errors.As(tm.err, &ee) {
		return ee.ExitCode()
	}
	if tm.err != nil {
		tm.t.Fatal(tm.err)
	}
	return 0
}

func ptyEnv(home string) []string {
	return []string{"HOME=" + home, "PATH=" + os.Getenv("PATH"), "TERM=xterm-256color", "NO_COLOR=1", "LANG=C.UTF-8"}
}

func TestWizardInTerminal(t *testing.T) {
	home := testenv.TempDir(t)
	repo := filepath.Join(testenv.TempDir(t), "repo")
	copyTree(t, "testdata/cdbrepo", repo)
	gitInit(t, repo)
	secretsDir := filepath.Join(home, "my-secrets")

	tm := startTerm(t, ptyEnv(home), "--repo", repo, "--start=false")
	tm.WaitFor("System")
	tm.WaitFor("Repo       " + repo)
	tm.WaitFor("Secrets folder")
	tm.WaitFor(filepath.Join(home, "Documents", ".secrets", ".cdb")) // the default, pre-filled
	tm.Send("\x15" + secretsDir + "\r")                              // Ctrl-U clears the default
	tm.WaitFor("Compose profile")
	tm.Send("\r")
	tm.WaitFor("Overlays (optional)")
	tm.Send("\r")
	tm.WaitFor("Enter external credentials now?")
	tm.Send("y")
	// Each credential is its own page; wait for its description (the names
	// also appear in the previous page's text).
	for _, prompt := range []string{"Where alert and report mails go", "MEXC API key (leave", "MEXC API secret (leave", "Sender address for alert"} {
		tm.WaitFor(prompt)
		tm.Send("\r")
	}
	tm.WaitFor("SMTP password (for smtp.gmail.com")
	tm.Send(testSecret + "\r")
	tm.WaitFor("SMTP user for Grafana")
	tm.Send("me@example.org\r")
	tm.WaitFor("Make SECRETS_PATH permanent for")
	tm.WaitFor("[•] shells") // the default
	tm.Send("\r")
	tm.WaitFor("Install the gitleaks pre-commit hook?")
	tm.Send("n")
	tm.WaitFor("Start the stack now?")
	tm.Send("n")
	tm.WaitFor("The plan:")
	tm.WaitFor(secretsDir)
	tm.WaitFor("gitleaks pre-commit hook: skipped (you chose no hook)")
	tm.WaitFor("Apply these")
	tm.Send("y")
	tm.WaitFor("answers remembered in")
	tm.WaitFor("Created SMTP_PASSWORD")
	tm.WaitFor("What to restart:")
	tm.WaitFor("Secrets folder: " + secretsDir)
	tm.WaitFor("Undo: cdb-setup uninstall")
	if code := tm.Exit(); code != 0 {
		t.Fatalf("exit %d:\n%s", code, tm.plain())
	}
	if strings.Contains(tm.rawText(), testSecret) {
		t.Fatal("the password was echoed to the terminal")
	}
	// The secrets: generated passwords, the typed credentials byte for byte.
	for name, want := range map[string]string{"SMTP_PASSWORD": testSecret, "SMTP_USER": "me@example.org", "SMTP_FROM": ""} {
		got, err := os.ReadFile(filepath.Join(secretsDir, name))
		if err != nil || string(got) != want {
			t.Errorf("%s: %v, %d bytes (want %d)", name, err, len(got), len(want))
		}
	}
	if b, err := os.ReadFile(filepath.Join(secretsDir, "REDIS_PASSWORD")); err != nil || !regexp.MustCompile(`^[A-Za-z0-9]{32}$`).Match(b) {
		t.Errorf("REDIS_PASSWORD is not 32 alphanumerics (%v)", err)
	}
	// A new login shell sees the folder the user typed.
	if bash, err := exec.LookPath("bash"); err == nil {
		cmd := exec.Command(bash, "-lc", `printf %s "$SECRETS_PATH"`)
		cmd.Env = ptyEnv(home)
		out, err := cmd.Output()
		if err != nil || string(out) != secretsDir {
			t.Errorf("bash -lc sees SECRETS_PATH=%q (%v), want %q", out, err, secretsDir)
		}
	}
	saved, err := os.ReadFile(filepath.Join(home, ".local/state/cdb-setup", setup.AnswersFileName))
	if err != nil || !strings.Contains(string(saved), "secrets_path: "+secretsDir) || strings.Contains(string(saved), testSecret) {
		t.Fatalf("saved answers (%v):\n%s", err, saved)
	}

	// Again on the set-up machine: the last answers are offered; changing
	// them starts every question from them, and there is nothing to do.
	tm = startTerm(t, ptyEnv(home), "--repo", repo)
	tm.WaitFor("Use the answers of your last setup?")
	tm.Send("n") // Change my answers
	tm.WaitFor("Compose mounts every secret from this folder")
	tm.WaitFor(secretsDir)
	tm.Send("\r")
	tm.answerDefaults("\r", "\r") // the last answer (no) is the default now
	tm.WaitFor("Everything already done ✓")
	if strings.Count(tm.plain(), "already done ✓") != 1 {
		t.Errorf("a re-run says it is all done once, at its end:\n%s", tm.plain())
	}
	if code := tm.Exit(); code != 0 {
		t.Fatalf("exit %d:\n%s", code, tm.plain())
	}
}

func TestWizardCtrlCInTerminal(t *testing.T) {
	home := testenv.TempDir(t)
	repo := filepath.Join(testenv.TempDir(t), "repo")
	copyTree(t, "testdata/cdbrepo", repo)
	tm := startTerm(t, ptyEnv(home), "--repo", repo, "--start=false")
	tm.WaitFor("Secrets folder")
	tm.Send("\x03")
	tm.WaitFor("Cancelled. Nothing was changed.")
	if code := tm.Exit(); code != 130 {
		t.Fatalf("exit %d, want 130", code)
	}
	if entries, _ := os.ReadDir(home); len(entries) != 0 {
		t.Errorf("HOME changed: %v", entries)
	}
}

// WaitNoEcho waits until the program has turned terminal echo off (a
// password prompt): typing before that would let the terminal itself echo
// the secret. The master shares the slave's termios on Linux.
func (tm *ptyTerm) WaitNoEcho() {
	tm.t.Helper()
	deadline := time.After(60 * time.Second)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		tio, err := unix.IoctlGetTermios(int(tm.pty.Fd()), ioctlGetTermios)
		if err != nil {
			testenv.Need(tm.t, false, "reading terminal modes from the pty master ("+err.Error()+")")
		}
		if tio.Lflag&unix.ECHO == 0 {
			return
		}
		select {
		case <-deadline:
			tm.t.Fatalf("echo was never turned off; the terminal shows:\n%s", tm.plain())
		case <-tick.C:
		}
	}
}

// Accessible mode (ACCESSIBLE=1, and TERM=dumb): line by line, each
// question's title, then its explanation, then what Enter keeps; no key
// hints; Enter keeps a multi-select's choice; "back" returns to the
// previous question; the password read with echo off; no escape sequences.
func TestWizardAccessibleInTerminal(t *testing.T) {
	for _, mode := range []struct{ name, env string }{{"ACCESSIBLE", "ACCESSIBLE=1"}, {"TERM=dumb", "TERM=dumb"}} {
		for _, sz := range screenSizes {
			t.Run(mode.name+"/"+sz.name, func(t *testing.T) {
				home := testenv.TempDir(t)
				repo := filepath.Join(testenv.TempDir(t), "repo")
				copyTree(t, "testdata/cdbrepo", repo)
				gitInit(t, repo)
				def := filepath.Join(home, "Documents", ".secrets", ".cdb")
				tm := startTermSize(t, sz.rows, sz.cols, append(ptyEnv(home), mode.env), "--repo", repo, "--start=false")
				tm.WaitFor("\nSecrets folder\r\nCompose mounts every secret from this folder")
				tm.WaitFor("Enter keeps " + def + ": ")
				tm.Send("\r")
				tm.WaitFor("\nCompose profile\r\nWhich compose files start")
				tm.WaitFor("Type a number from 1 to 2; Enter keeps 1 (dev): ")
				tm.Send("\r")
				tm.WaitFor("\nOverlays (optional)\r\nExtra compose files")
				tm.WaitFor("Enter keeps none: ")
				tm.Send("\r") // Enter keeps the (empty) choice
				tm.WaitFor("Enter external credentials now?")
				tm.WaitFor("Type y for Yes or n for Skip; Enter keeps Skip: ")
				tm.Send("y\r")
				for _, prompt := range []string{"Where alert and report mails go", "MEXC API key (leave", "MEXC API secret (leave", "Sender address for alert"} {
					tm.WaitFor(prompt)
					tm.Send("\r")
				}
				tm.WaitFor("SMTP_PASSWORD\r\nSMTP password (for smtp.gmail.com")
				tm.WaitFor("Type it (not shown): ")
				tm.WaitNoEcho()
				tm.Send(testSecret + "\r")
				tm.WaitFor("SMTP user for Grafana")
				tm.Send("me@example.org\r")
				tm.WaitFor("Make SECRETS_PATH permanent for\r\nCompose needs SECRETS_PATH")
				tm.WaitFor("Enter keeps shells: ")
				tm.Send("back\r") // the previous question, with its answer kept
				tm.WaitFor("SMTP user for Grafana")
				tm.WaitFor("Enter keeps me@example.org: ")
				tm.Send("\r")
				tm.WaitFor("Make SECRETS_PATH permanent for")
				tm.WaitFor("Enter keeps shells: ")
				tm.Send("\r") // Enter keeps the pre-selected "shells"
				tm.WaitFor("Install the gitleaks pre-commit hook?")
				tm.Send("n\r")
				tm.WaitFor("Start the stack now?")
				tm.Send("n\r")
				tm.WaitFor("The plan:")
				tm.WaitFor("Apply these")
				tm.WaitFor("Enter keeps 1 (apply): ")
				tm.Send("y\r")
				tm.WaitFor("Secrets folder: " + def)
				if b, err := os.ReadFile(filepath.Join(def, "SMTP_PASSWORD")); err != nil || string(b) != testSecret {
					t.Errorf("SMTP_PASSWORD not written as typed (%v)", err)
				}
				if b, err := os.ReadFile(filepath.Join(def, "SMTP_USER")); err != nil || string(b) != "me@example.org" {
					t.Errorf("SMTP_USER not kept across back (%v)", err)
				}
				if code := tm.Exit(); code != 0 {
					t.Fatalf("exit %d:\n%s", code, tm.plain())
				}
				raw := tm.rawText()
				if strings.Contains(raw, testSecret) {
					t.Fatal("the password was echoed to the terminal")
				}
				// Bubble Tea's init asks the terminal for its background colour
				// and cursor position at every start (invisible queries, which
				// termenv skips on TERM=dumb); nothing else may be an escape.
				raw = strings.Replace(raw, "\x1b]11;?\x1b\\\x1b[6n", "", 1)
				for _, noise := range []string{"Space toggles", "Select up to", "\x1b"} {
					if strings.Contains(raw, noise) {
						t.Errorf("%q in accessible mode: %q", noise, raw[max(0, strings.Index(raw, noise)-80):min(len(raw), strings.Index(raw, noise)+80)])
					}
				}
			})
		}
	}
}

// A narrow terminal: the questions wrap instead of breaking, and a whole
// --yes style run still ends with the summary.
func TestWizardNarrowTerminal(t *testing.T) {
	home := testenv.TempDir(t)
	repo := filepath.Join(testenv.TempDir(t), "repo")
	copyTree(t, "testdata/cdbrepo", repo)
	gitInit(t, repo)
	tm := startTermSize(t, 24, 40, ptyEnv(home), "--repo", repo, "--start=false")
	tm.WaitFor("Secrets folder")
	tm.Send("\r")
	tm.answerDefaults("n", "n")
	tm.WaitFor("Apply these")
	tm.Send("y")
	tm.WaitFor("Check any time: cdb-setup doctor")
	if code := tm.Exit(); code != 0 {
		t.Fatalf("exit %d:\n%s", code, tm.plain())
	}
}

// The wizard in a terminal, all the way to a healthy demo stack on the real
// Docker Engine: questions answered with keystrokes, the secrets generated,
// `up`'s live table inside the wizard, the summary.
func TestWizardInTerminalStartsDemoStack(t *testing.T) {
	port := freePort(t)
	s := newStack(t, fmt.Sprintf(`
  redis:
    image: IMAGE
    restart: unless-stopped
    environment: {FAKE_MODE: redis, FAKE_PASSWORD_FILE: /run/secrets/redis_password, FAKE_HEALTHY_AFTER: 1s}
    secrets: [redis_password]
    ports: ["127.0.0.1:%d:6379"]
`, port), "", "redis")
	for name := range s.values {
		must(t, os.Remove(filepath.Join(s.secrets, name)))
	}
	s.values = map[string]string{}
	home := testenv.TempDir(t)
	env := ptyEnv(home)
	for _, k := range []string{"CDB_SETUP_COMPOSE", "DOCKER_HOST", "DOCKER_CONFIG", "DOCKER_CONTEXT"} {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	tm := startTerm(t, env, "--repo", s.repo)
	tm.WaitFor("Secrets folder")
	tm.Send("\x15" + s.secrets + "\r")
	tm.WaitFor("Make SECRETS_PATH permanent for")
	tm.Send("\r")
	tm.WaitFor("Install the gitleaks pre-commit hook?")
	tm.Send("n")
	tm.WaitFor("Start the stack now?")
	tm.Send("\r") // yes is the default
	tm.WaitFor("start the stack (dev) and wait until every service is healthy")
	tm.WaitFor("Apply these")
	tm.Send("y")
	tm.WaitFor("Created REDIS_PASSWORD")
	tm.WaitFor("SERVICE  STATE") // up's live table
	tm.WaitFor("all 1 services healthy")
	tm.WaitFor("the stack is up and every service is healthy")
	tm.WaitFor("Check any time: cdb-setup doctor")
	if code := tm.Exit(); code != 0 {
		t.Fatalf("exit %d:\n%s", code, tm.plain())
	}
	b, err := os.ReadFile(filepath.Join(s.secrets, "REDIS_PASSWORD"))
	if err != nil || strings.Contains(tm.rawText(), string(b)) {
		t.Fatalf("REDIS_PASSWORD missing or shown on the terminal (%v)", err)
	}
}

// answerDefaults answers the questions after the secrets folder: the default
// profile and overlays, no credentials now, the default persistence, then
// hook and start with the keys given ("\r" keeps the default; start "" when
// that question is not asked).
func (tm *ptyTerm) answerDefaults(hook, start string) {
	tm.WaitFor("Compose profile")
	tm.Send("\r")
	tm.WaitFor("Overlays (optional)")
	tm.Send("\r")
	tm.WaitFor("Enter external credentials now?")
	tm.Send("n")
	tm.WaitFor("Make SECRETS_PATH permanent for")
	tm.Send("\r")
	tm.WaitFor("Install the gitleaks pre-commit hook?")
	tm.Send(hook)
	if start != "" {
		tm.WaitFor("Start the stack now?")
		tm.Send(start)
	}
}
