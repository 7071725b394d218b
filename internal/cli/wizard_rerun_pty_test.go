//go:build !windows

package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/claire-de-binare/cdb-setup/internal/testenv"
)

// Issue 14 in a real terminal: the secrets folder is checked when it is
// typed (a folder in the clone's work tree is refused at its question, with
// the later check's reason and fix), and a re-run offers the last answers:
// Enter on "Use them" gives "Everything already done ✓" without another
// question.
func TestWizardRerunInTerminal(t *testing.T) {
	home := testenv.TempDir(t)
	repo := filepath.Join(testenv.TempDir(t), "repo")
	copyTree(t, "testdata/cdbrepo", repo)
	gitInit(t, repo)
	good := filepath.Join(home, "my-secrets")

	// Wide enough that the long refusal is not wrapped mid-phrase.
	tm := startTermSize(t, 40, 400, ptyEnv(home), "--repo", repo, "--start=false")
	tm.WaitFor("Compose mounts every secret from this folder")
	tm.Send("\x15" + filepath.Join(repo, "secrets") + "\r")
	tm.WaitFor("is inside the git work tree and not ignored")
	tm.WaitFor("add this line to")
	tm.Send("\x15" + good + "\r")
	tm.answerDefaults("n", "n")
	tm.WaitFor("Apply these")
	tm.Send("y")
	tm.WaitFor("Secrets folder: " + good)
	if code := tm.Exit(); code != 0 {
		t.Fatalf("exit %d:\n%s", code, tm.plain())
	}
	if _, err := os.Stat(filepath.Join(repo, "secrets")); err == nil {
		t.Errorf("the refused folder was created")
	}

	// The re-run: one question, Enter, done.
	tm = startTerm(t, ptyEnv(home), "--repo", repo)
	tm.WaitFor("Use the answers of your last setup?")
	tm.WaitFor(good)
	tm.WaitFor("Change my answers")
	tm.Send("\r") // Use them (the default)
	tm.WaitFor("Everything already done ✓")
	if code := tm.Exit(); code != 0 {
		t.Fatalf("exit %d:\n%s", code, tm.plain())
	}
	for _, never := range []string{"Compose mounts every secret", "Apply these"} {
		if strings.Contains(tm.plain(), never) {
			t.Errorf("the re-run showed %q:\n%s", never, tm.plain())
		}
	}
}

// Docker unreachable, at a terminal: before the first question the wizard
// shows the failed check and asks whether to set up the rest without the
// stack. No (the default) stops with exit 3 and the check's own fix,
// nothing changed; Yes goes on without the start question, skips the stack
// with the reason and says how to start it once Docker works.
func TestWizardDockerUnreachableInTerminal(t *testing.T) {
	home := testenv.TempDir(t)
	repo := filepath.Join(testenv.TempDir(t), "repo")
	copyTree(t, "testdata/cdbrepo", repo)
	env := append(ptyEnv(home), "DOCKER_HOST=unix://"+filepath.Join(testenv.TempDir(t), "no-docker.sock"))

	tm := startTerm(t, env, "--repo", repo)
	tm.WaitFor("✗ Docker Engine reachable")
	tm.WaitFor("Set up the rest without it?")
	if strings.Contains(tm.plain(), "Compose mounts every secret") {
		t.Fatalf("a question came before the Docker check:\n%s", tm.plain())
	}
	tm.Send("\r") // No
	tm.WaitFor("Stopped: nothing was changed. Fix: check DOCKER_HOST")
	if code := tm.Exit(); code != 3 {
		t.Fatalf("exit %d, want 3:\n%s", code, tm.plain())
	}
	if ents, _ := os.ReadDir(home); len(ents) != 0 {
		t.Errorf("HOME changed: %v", ents)
	}

	tm = startTerm(t, env, "--repo", repo, "--persist", "none")
	tm.WaitFor("Set up the rest without it?")
	tm.Send("y")
	tm.WaitFor("Compose mounts every secret from this folder")
	tm.Send("\r")
	tm.answerDefaults("n", "")
	tm.WaitFor("start the stack and wait until healthy: skipped (the stack cannot start here")
	tm.WaitFor("Apply these")
	tm.Send("y")
	tm.WaitFor("The stack was not started. Fix: check DOCKER_HOST")
	if code := tm.Exit(); code != 0 {
		t.Fatalf("exit %d:\n%s", code, tm.plain())
	}
	if strings.Contains(tm.plain(), "Start the stack now?") {
		t.Errorf("the start question was asked without Docker:\n%s", tm.plain())
	}
	if _, err := os.Stat(filepath.Join(home, "Documents", ".secrets", ".cdb", "REDIS_PASSWORD")); err != nil {
		t.Errorf("the secrets were not set up: %v", err)
	}
}
