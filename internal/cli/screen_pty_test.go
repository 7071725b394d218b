//go:build !windows

package cli

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/claire-de-binare/cdb-setup/internal/testenv"
)

// The screen tests of issue 14 run at the two sizes the issue was found
// at: a full terminal and a small one.
var screenSizes = []struct {
	name       string
	rows, cols uint16
}{{"120x40", 40, 120}, {"60x20", 20, 60}}

// colourRe matches an SGR sequence that sets a colour (30–37, 40–47,
// 90–97, 100–107, 38;…, 48;…).
var colourRe = regexp.MustCompile(`\x1b\[(?:[0-9;]*;)?(?:3[0-9]|4[0-9]|9[0-7]|10[0-7])(?:;[0-9;]*)?m`)

// screenStack is a stack whose services take a moment to turn healthy (so
// the table shows "starting: 1.3s of 2s" rows) and one whose image is built
// by compose (so the table has a "building image…" phase).
func screenStack(t *testing.T) *e2eStack {
	s := newStack(t, `
  redis:
    image: IMAGE
    environment: {FAKE_MODE: redis, FAKE_PASSWORD_FILE: /run/secrets/redis_password, FAKE_HEALTHY_AFTER: 3s}
    secrets: [redis_password]
  worker-with-a-rather-long-service-name:
    image: IMAGE
    environment: {FAKE_HEALTHY_AFTER: 2s}
  built:
    build: {context: ./built}
    image: IMAGE-built
    pull_policy: build
    environment: {FAKE_HEALTHY_AFTER: 1s}
`, "", "redis", "worker-with-a-rather-long-service-name", "built")
	dir := filepath.Join(s.repo, "compose", "built")
	must(t, os.MkdirAll(dir, 0o755))
	// A build step that takes a while, on the locally built image (nothing
	// can be pulled here).
	must(t, os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM "+e2eImage+"\nCOPY Dockerfile /built-marker\n"), 0o644))
	t.Cleanup(func() { _ = runDocker("image", "rm", "-f", e2eImage+"-built") })
	return s
}

func runDocker(args ...string) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	return exec.CommandContext(ctx, "docker", args...).Run()
}

func stackTermEnv(s *e2eStack, extra ...string) []string {
	env := []string{"HOME=" + testenv.TempDir(s.t), "PATH=" + os.Getenv("PATH"), "LANG=C.UTF-8", "CDB_SETUP_STATE_DIR=" + s.state}
	for _, k := range []string{"CDB_SETUP_COMPOSE", "DOCKER_HOST", "DOCKER_CONFIG", "DOCKER_CONTEXT"} {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	return append(env, extra...)
}

// `up` on a real stack in a terminal: TERM=dumb gets plain progress lines
// (no cursor moves, no colours) including the image build; NO_COLOR gets
// no colour; a capable terminal gets one table that fits the width, with
// no stale copy in the scrollback.
func TestUpOnTheScreen(t *testing.T) {
	for _, sz := range screenSizes {
		for _, term := range []struct {
			name string
			env  []string
		}{
			{"dumb", []string{"TERM=dumb"}},
			{"no-color", []string{"TERM=xterm-256color", "NO_COLOR=1"}},
			{"xterm", []string{"TERM=xterm-256color"}},
		} {
			t.Run(sz.name+"/"+term.name, func(t *testing.T) {
				s := screenStack(t)
				tm := startTermSize(t, sz.rows, sz.cols, stackTermEnv(s, term.env...), "--repo", s.repo, "--secrets-path", s.secrets, "up")
				tm.WaitFor("all 3 services healthy")
				if code := tm.Exit(); code != 0 {
					t.Fatalf("exit %d:\n%s", code, tm.plain())
				}
				raw := tm.rawText()
				screen := termScreen(raw, int(sz.cols), int(sz.rows))
				checkWordWrap(t, screen, int(sz.cols))
				shown := strings.Join(screen, "\n")
				switch term.name {
				case "dumb":
					if strings.Contains(raw, "\x1b") {
						t.Errorf("escape sequences on TERM=dumb: %q", firstEscapes(raw))
					}
					if !strings.Contains(raw, "built: building image…") {
						t.Errorf("the image build is not shown:\n%s", raw)
					}
					if !strings.Contains(raw, "→ ready") {
						t.Errorf("no progress lines:\n%s", raw)
					}
				case "no-color":
					if colourRe.MatchString(raw) {
						t.Errorf("colours with NO_COLOR: %q", colourRe.FindString(raw))
					}
				case "xterm":
					if n := strings.Count(shown, "SERVICE"); n != 1 {
						t.Errorf("%d table headers on the screen and in the scrollback:\n%s", n, shown)
					}
				}
				for _, l := range screen {
					if width(l) > int(sz.cols) {
						t.Errorf("a line wider than the terminal: %q", l)
					}
				}
				if term.name != "dumb" {
					if n := strings.Count(shown, "SERVICE"); n != 1 {
						t.Errorf("%d table headers:\n%s", n, shown)
					}
					if !strings.Contains(raw, "building image…") {
						t.Errorf("the image build is not shown:\n%s", shown)
					}
				}
			})
		}
	}
}

func firstEscapes(s string) []string {
	var out []string
	for _, m := range ansiRe.FindAllString(s, 5) {
		out = append(out, fmt.Sprintf("%q", m))
	}
	return out
}

// checkWordWrap: the preflight's lines break between words. A line the
// terminal itself wrapped (it does not start with the indentation) is
// allowed only for a word longer than a line (a long path), which no
// wrapping can keep whole.
func checkWordWrap(t *testing.T, screen []string, cols int) {
	t.Helper()
	in := false
	for i, l := range screen {
		switch {
		case strings.HasPrefix(l, "Preflight for"):
			in = true
			continue
		case strings.HasPrefix(l, "Starting:"):
			return
		}
		if !in || strings.HasPrefix(l, "  ") || i == 0 {
			continue
		}
		prev := strings.Fields(screen[i-1])
		word := prev[len(prev)-1] + strings.Fields(l + " x")[0]
		if width(word) <= cols-6 {
			t.Errorf("%q was cut at the terminal's edge:\n%s\n%s", word, screen[i-1], l)
		}
	}
}

// waitForRe waits until re matches the plain text after the mark (like
// WaitFor) and returns the match.
func (tm *ptyTerm) waitForRe(re *regexp.Regexp) string {
	tm.t.Helper()
	deadline := time.After(90 * time.Second)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		p := tm.plain()
		if loc := re.FindStringIndex(p[min(tm.mark, len(p)):]); loc != nil {
			m := p[tm.mark+loc[0] : tm.mark+loc[1]]
			tm.mark += loc[1]
			return m
		}
		select {
		case <-deadline:
			tm.t.Fatalf("waited for /%s/; the terminal shows:\n%s", re, p)
		case <-tm.done:
			if p := tm.plain(); re.MatchString(p[min(tm.mark, len(p)):]) {
				continue
			}
			tm.t.Fatalf("cdb-setup exited (%v) before showing /%s/:\n%s", tm.err, re, tm.plain())
		case <-tick.C:
		}
	}
}

func newWizardRepo(t *testing.T) (home, repo string) {
	home = testenv.TempDir(t)
	repo = filepath.Join(testenv.TempDir(t), "repo")
	copyTree(t, "testdata/cdbrepo", repo)
	gitInit(t, repo)
	return home, repo
}

// NO_COLOR: a yes/no question shows which answer is selected without
// colour ([Yes] / [No]), and so does the plan's question (> marks it).
func TestWizardSelectionVisibleWithoutColour(t *testing.T) {
	for _, sz := range screenSizes {
		t.Run(sz.name, func(t *testing.T) {
			home, repo := newWizardRepo(t)
			tm := startTermSize(t, sz.rows, sz.cols, ptyEnv(home), "--repo", repo, "--start=false")
			tm.WaitFor("Secrets folder")
			tm.Send("\r")
			tm.WaitFor("Compose profile")
			tm.Send("\r")
			tm.WaitFor("Overlays (optional)")
			tm.Send("\r")
			tm.WaitFor("Enter external credentials now?")
			tm.WaitFor("[Skip]") // the default, marked
			tm.Send("n")
			tm.WaitFor("Make SECRETS_PATH permanent for")
			tm.Send("\r")
			tm.WaitFor("Install the gitleaks pre-commit hook?")
			tm.WaitFor("[Yes]")
			tm.Send("\x1b[C") // → moves the selection
			tm.WaitFor("[No]")
			tm.Send("\x1b[D") // ← and back
			tm.WaitFor("[Yes]")
			tm.Send("\x1b[C")
			tm.WaitFor("[No]")
			tm.Send("\r")
			tm.WaitFor("Start the stack now?")
			tm.Send("n")
			tm.WaitFor("gitleaks pre-commit hook: skipped (you chose no hook)")
			tm.WaitFor("Apply these")
			tm.WaitFor("> Yes, apply them")
			tm.Send("\x1b[B") // ↓
			tm.WaitFor("> Edit answers")
			tm.Send("n")
			tm.WaitFor("Cancelled. Nothing was changed.")
			if code := tm.Exit(); code != 0 {
				t.Fatalf("exit %d:\n%s", code, tm.plain())
			}
			if colourRe.MatchString(tm.rawText()) {
				t.Errorf("colours with NO_COLOR: %q", colourRe.FindString(tm.rawText()))
			}
		})
	}
}

// Every question can go back: shift+tab from the last questions reaches
// the first one, and "Edit answers" on the plan returns to the questions
// with the answers given; only the last answers are applied.
func TestWizardGoesBack(t *testing.T) {
	for _, sz := range screenSizes {
		t.Run(sz.name, func(t *testing.T) {
			home, repo := newWizardRepo(t)
			dirA, dirB, dirC := filepath.Join(home, "a"), filepath.Join(home, "b"), filepath.Join(home, "c")
			tm := startTermSize(t, sz.rows, sz.cols, ptyEnv(home), "--repo", repo, "--start=false")
			tm.WaitFor("Secrets folder")
			tm.Send("\x15" + dirA + "\r")
			tm.WaitFor("Compose profile")
			tm.Send("\r")
			tm.WaitFor("Overlays (optional)")
			tm.Send("\r")
			tm.WaitFor("Enter external credentials now?")
			tm.Send("n")
			tm.WaitFor("Make SECRETS_PATH permanent for")
			for _, earlier := range []string{"Enter external credentials now?", "Overlays (optional)", "Compose profile", "Secrets folder"} {
				tm.Send("\x1b[Z") // shift+tab
				tm.WaitFor(earlier)
			}
			tm.WaitFor(dirA) // the answer given, still there
			tm.Send("\x15" + dirB + "\r")
			tm.answerDefaults("n", "")
			tm.WaitFor("Start the stack now?")
			tm.Send("\x1b[Z") // back from the last question too
			tm.WaitFor("Install the gitleaks pre-commit hook?")
			tm.Send("n")
			tm.WaitFor("Start the stack now?")
			tm.Send("n")
			tm.WaitFor("The plan:")
			tm.WaitFor(dirB)
			tm.WaitFor("Apply these")
			tm.Send("e") // Edit answers
			tm.WaitFor("Secrets folder")
			tm.WaitFor(dirB)
			tm.Send("\x15" + dirC + "\r")
			tm.answerDefaults("\r", "\r") // the answer given before (no) is kept
			tm.WaitFor("The plan:")
			tm.WaitFor(dirC)
			tm.WaitFor("gitleaks pre-commit hook: skipped (you chose no hook)")
			tm.WaitFor("Apply these")
			tm.Send("y")
			tm.WaitFor("Secrets folder: " + dirC)
			if code := tm.Exit(); code != 0 {
				t.Fatalf("exit %d:\n%s", code, tm.plain())
			}
			if _, err := os.Stat(filepath.Join(dirC, "REDIS_PASSWORD")); err != nil {
				t.Errorf("the last answer was not applied: %v", err)
			}
			for _, d := range []string{dirA, dirB} {
				if _, err := os.Stat(d); err == nil {
					t.Errorf("%s was created: an answer that was changed was applied", d)
				}
			}
		})
	}
}

// A step that runs longer than a second shows it is alive: a spinner with
// the elapsed time on a terminal, plain "still working" lines on TERM=dumb.
// The step is `down` of a container that ignores its stop signal, so
// Docker waits out its stop_grace_period (5 s) before killing it.
func TestLongStepShowsItIsAlive(t *testing.T) {
	frame := regexp.MustCompile(`[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] \[[0-9]+s\] `)
	plainLine := regexp.MustCompile(`  … \[[0-9]+s\] still working: `)
	for _, sz := range screenSizes {
		for _, term := range []string{"dumb", "xterm-256color"} {
			t.Run(sz.name+"/"+term, func(t *testing.T) {
				s := newStack(t, `
  slow-to-stop:
    image: IMAGE
    stop_signal: SIGWINCH
    stop_grace_period: 5s
    environment: {FAKE_HEALTHY_AFTER: 0s}
`, "", "slow-to-stop")
				if r := s.run(context.Background(), s.env(), "up"); r.code != 0 {
					t.Fatalf("up: exit %d", r.code)
				}
				tm := startTermSize(t, sz.rows, sz.cols, stackTermEnv(s, "TERM="+term, "NO_COLOR=1"), "--repo", s.repo, "--secrets-path", s.secrets, "down", "--yes")
				if term == "dumb" {
					tm.waitForRe(plainLine)
				} else {
					tm.waitForRe(frame)
				}
				if code := tm.Exit(); code != 0 {
					t.Fatalf("exit %d:\n%s", code, tm.plain())
				}
				raw := tm.rawText()
				screen := termScreen(raw, int(sz.cols), int(sz.rows))
				for _, l := range screen {
					if frame.MatchString(l) {
						t.Errorf("the spinner was left on the screen: %q", l)
					}
					if width(l) > int(sz.cols) {
						t.Errorf("wider than the terminal: %q", l)
					}
				}
				if term == "dumb" && strings.Contains(raw, "\x1b[") {
					t.Errorf("escape sequences on TERM=dumb: %v", firstEscapes(raw))
				}
				if !strings.Contains(strings.Join(screen, "\n"), "✓") {
					t.Errorf("no result line:\n%s", strings.Join(screen, "\n"))
				}
			})
		}
	}
}
