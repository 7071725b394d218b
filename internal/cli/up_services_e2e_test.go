package cli

import (
	"crypto/rand"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/claire-de-binare/cdb-setup/internal/platform"
	"github.com/claire-de-binare/cdb-setup/internal/testenv"
)

// TestUpNamedServicesOnDemoStack: issue 14, "Run part of the stack". On
// the real demo stack (examples/demo, its image built from the demo's
// Dockerfile), `up demo_app` starts demo_app and what it depends on
// (demo_redis), waits for and checks only demo_app, and starts nothing
// else; a misspelt service is a usage error (exit 2) suggesting the right
// command line. doctor then says the stack runs in part, and after a full
// `up` that all of it runs.
func TestUpNamedServicesOnDemoStack(t *testing.T) {
	needStack(t)
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	project := "cdbtmanners" + hex.EncodeToString(b)
	repo := demoClone(t)
	// The demo's login checks use the dev profile's fixed host ports, which
	// another copy of the demo may hold; this test runs the prod profile
	// (no published ports) and checks no login.
	mf := filepath.Join(repo, "cdb-setup.yaml")
	m, err := os.ReadFile(mf)
	if err != nil {
		t.Fatal(err)
	}
	m = append(m[:strings.Index(string(m), "checks:")], "checks: []\n"...)
	must(t, os.WriteFile(mf, m, 0o644))
	dir := filepath.Join(testenv.TempDir(t), "secrets")
	env := platform.EnvironmentFrom(os.Environ())
	delete(env, "SECRETS_PATH")
	delete(env, "NO_COLOR")
	env["CDB_SETUP_STATE_DIR"] = testenv.TempDir(t)
	env["DEMO_IMAGE"] = e2eImage // the demo's Dockerfile with the fake service, built once
	common := []string{"--repo", repo, "--secrets-path", dir, "--project-name", project}
	run := func(args ...string) cliRun {
		t.Helper()
		r := runCLI(t, env, "", append(append([]string(nil), common...), args...)...)
		t.Logf("cdb-setup %s → exit %d\n%s%s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
		return r
	}
	t.Cleanup(func() {
		if r := runCLI(t, env, "", append(append([]string(nil), common...), "down", "--volumes", "--yes")...); r.code != 0 {
			t.Logf("cleanup of %s failed: %s", project, r.stderr)
		}
	})
	if r := run("secrets", "init", "--no-input"); r.code != 0 {
		t.Fatalf("secrets init: exit %d", r.code)
	}

	r := run("up", "--profile", "prod", "demo_app", "--json")
	if r.code != 0 {
		t.Fatalf("up demo_app: exit %d", r.code)
	}
	rep := jsonReport(t, runResult(r))
	var waited []string
	for _, s := range rep.Services {
		waited = append(waited, s.Name)
	}
	if strings.Join(waited, ",") != "demo_app" {
		t.Errorf("up demo_app waited for %v, want only demo_app", waited)
	}
	for _, c := range rep.Checks {
		if c.Service != "" && c.Service != "demo_app" {
			t.Errorf("up demo_app checked %s: %s", c.Service, c.ID)
		}
	}
	if got := projectServices(t, project); strings.Join(got, ",") != "demo_app,demo_redis" {
		t.Errorf("containers after up demo_app: %v, want demo_app and its dependency demo_redis", got)
	}

	r = run("up", "--profile", "prod", "demo_ap")
	want := "Did you mean `cdb-setup up --repo " + repo + " --secrets-path " + dir + " --project-name " + project + " --profile prod demo_app`?"
	if r.code != 2 || !strings.Contains(r.stderr, `unknown service "demo_ap"`) || !strings.Contains(r.stderr, want) {
		t.Errorf("up demo_ap: exit %d, want 2 and %q", r.code, want)
	}
	for _, c := range suggestedCommands(r.stderr) {
		if err := checkSuggested(c); err != nil {
			t.Errorf("suggests %q: %v", c, err)
		}
	}
	if got := projectServices(t, project); strings.Join(got, ",") != "demo_app,demo_redis" {
		t.Errorf("a usage error changed the stack: %v", got)
	}

	// doctor: the stack runs in part (warning, `up` as the fix).
	r = run("doctor")
	if !strings.Contains(r.stdout, "! Stack running: 2 of 5 services up; not up: demo_grafana not created, demo_migrate not created, demo_postgres not created") ||
		!strings.Contains(r.stdout, "fix: cdb-setup up --repo "+repo) {
		t.Errorf("doctor does not say the stack runs in part:\n%s", r.stdout)
	}
	if r = run("up", "--profile", "prod"); r.code != 0 {
		t.Fatalf("up: exit %d", r.code)
	}
	r = run("doctor")
	if !strings.Contains(r.stdout, "✓ Stack running: all 5 services up and healthy (project "+project+"); one-shot finished: demo_migrate") {
		t.Errorf("doctor does not say the whole stack runs:\n%s", r.stdout)
	}
}

// projectServices lists the compose services that have a container in
// project (running or not).
func projectServices(t *testing.T, project string) []string {
	t.Helper()
	out, err := exec.Command("docker", "ps", "-a", "--filter", "label=com.docker.compose.project="+project, "--format", `{{.Label "com.docker.compose.service"}}`).Output()
	if err != nil {
		t.Fatal(err)
	}
	names := strings.Fields(string(out))
	sort.Strings(names)
	return names
}

// TestDoctorStackUnknownWithoutEngine: with the Engine out of reach, doctor
// says the stack's state is unknown, never "not running".
func TestDoctorStackUnknownWithoutEngine(t *testing.T) {
	r := newWSRig(t)
	r.env["DOCKER_HOST"] = "unix://" + filepath.Join(testenv.TempDir(t), "no-docker.sock")
	_, _, out := r.run(t, r.env, "doctor")
	if !strings.Contains(out, "• Stack running: unknown: the Docker Engine cannot be reached") {
		t.Errorf("doctor without the Engine:\n%s", out)
	}
}
