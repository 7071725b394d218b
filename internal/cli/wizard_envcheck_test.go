package cli

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/claire-de-binare/cdb-setup/internal/exitcode"
	"github.com/claire-de-binare/cdb-setup/internal/testenv"
)

// Issue 14, "fail early": a git repository that is not a CDB clone stops
// the wizard before any question, with exit 3 and what to do, and nothing
// is written (no secrets, no state, no answers).
func TestWizardNotCDBCloneStopsBeforeQuestions(t *testing.T) {
	env, home := fixtureEnv(t)
	repo := testenv.TempDir(t)
	gitInit(t, repo)
	env["CDB_SETUP_REPO"] = repo
	r := runCLI(t, env, "", "--yes", "--secrets-path", filepath.Join(home, "s"))
	if r.code != exitcode.Environment {
		t.Fatalf("exit %d, want 3\n%s", r.code, r.stderr)
	}
	for _, want := range []string{"checked before any question", "✗ Repository: " + repo + " is not a CDB clone", "fix: run cdb-setup inside your CDB clone, or pass --repo DIR", "nothing was changed"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("missing %q:\n%s", want, r.stderr)
		}
	}
	if strings.Contains(r.stderr, "The plan:") {
		t.Errorf("planned after the failed check:\n%s", r.stderr)
	}
	for _, p := range []string{filepath.Join(home, "s"), env["CDB_SETUP_STATE_DIR"]} {
		if _, err := os.Stat(p); err == nil {
			t.Errorf("%s was written although the run stopped", p)
		}
	}
}

// Without Docker, a run without questions stops before changing anything
// (exit 3, the Engine check's own fix) and names the command that sets up
// everything else; that command, as printed, does it: secrets written, the
// stack steps skipped with the reason, exit 0.
func TestWizardWithoutDockerDoesTheRestWhenTold(t *testing.T) {
	env, home := fixtureEnv(t)
	env["DOCKER_HOST"] = "unix://" + filepath.Join(testenv.TempDir(t), "no-docker.sock")
	dir := filepath.Join(home, "s")
	r := runCLI(t, env, "", "--yes", "--secrets-path", dir, "--persist", "none", "--hook=false")
	if r.code != exitcode.Environment {
		t.Fatalf("exit %d, want 3\n%s", r.code, r.stderr)
	}
	if _, err := os.Stat(dir); err == nil {
		t.Fatalf("the secrets folder was created although the run stopped")
	}
	var rest string
	for _, line := range strings.Split(r.stderr, "\n") {
		if _, after, ok := strings.Cut(line, "the stack later: `"); ok {
			rest = strings.TrimSuffix(after, "`")
		}
	}
	if !strings.HasSuffix(rest, " --start=false") {
		t.Fatalf("no command for the rest:\n%s", r.stderr)
	}
	var args []string
	for _, a := range strings.Fields(rest)[1:] {
		args = append(args, strings.Trim(a, "'")) // the shell's quotes (a Windows path)
	}
	r = runCLI(t, env, "", args...)
	if r.code != 0 {
		t.Fatalf("`%s`: exit %d\n%s", rest, r.code, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "REDIS_PASSWORD")); err != nil {
		t.Errorf("secrets not written: %v", err)
	}
	if !strings.Contains(r.stderr, "start the stack and wait until healthy: skipped") {
		t.Errorf("the stack step is not skipped:\n%s", r.stderr)
	}
}

// A secrets folder inside the clone's work tree, given as an answer, is
// refused before the plan with the secrets check's own reason and fix
// (exit 2), and nothing is written.
func TestWizardSecretsFolderInWorkTreeRefusedAsAnswer(t *testing.T) {
	env, _ := fixtureEnv(t)
	repo := filepath.Join(testenv.TempDir(t), "repo")
	copyTree(t, "testdata/cdbrepo", repo)
	gitInit(t, repo)
	env["CDB_SETUP_REPO"] = repo
	dir := filepath.Join(repo, "secrets")
	r := runCLI(t, env, "", "--yes", "--start=false", "--secrets-path", dir, "--persist", "none", "--hook=false")
	if r.code != exitcode.Usage {
		t.Fatalf("exit %d, want 2\n%s", r.code, r.stderr)
	}
	for _, want := range []string{"is inside the git work tree and not ignored", "add this line to " + filepath.Join(repo, ".gitignore")} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("missing %q:\n%s", want, r.stderr)
		}
	}
	if strings.Contains(r.stderr, "The plan:") {
		t.Errorf("refused only after the plan:\n%s", r.stderr)
	}
	if _, err := os.Stat(dir); err == nil {
		t.Errorf("%s was created", dir)
	}
	if out, _ := exec.Command("git", "-C", repo, "status", "--porcelain").Output(); strings.Contains(string(out), "secrets") {
		t.Errorf("git sees secrets: %s", out)
	}
}

// Compose v1 only (the real Python docker-compose 1.x, which cannot read
// the CDB files): the wizard stops before any question, exit 3, and the
// fix names a command to type, not only a web page.
func TestWizardComposeV1OnlyNamesACommand(t *testing.T) {
	v1 := testenv.NeedCommand(t, "docker-compose")
	out, _ := exec.Command(v1, "version", "--short").Output()
	testenv.Need(t, strings.HasPrefix(strings.TrimSpace(string(out)), "1."), "the Python docker-compose 1.x as docker-compose on PATH")
	env, home := fixtureEnv(t)
	env["PATH"] = filepath.Dir(v1) // docker-compose, and no `docker compose` plugin
	delete(env, "CDB_SETUP_COMPOSE")
	r := runCLI(t, env, "", "--yes", "--secrets-path", filepath.Join(home, "s"), "--persist", "none", "--hook=false")
	if r.code != exitcode.Environment {
		t.Fatalf("exit %d, want 3\n%s", r.code, r.stderr)
	}
	for _, want := range []string{"✗ Docker Compose v2 available: only the old Python docker-compose 1.", "`sudo apt-get install docker-compose-plugin`", "nothing was changed"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("missing %q:\n%s", want, r.stderr)
		}
	}
	if _, err := os.Stat(filepath.Join(home, "s")); err == nil {
		t.Errorf("the secrets folder was created although the run stopped")
	}
}
