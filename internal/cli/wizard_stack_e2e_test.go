package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/claire-de-binare/cdb-setup/internal/testenv"
)

// The whole wizard, non-interactively (--yes), on the demo stack and the
// real Docker Engine: secrets generated, the stack started and healthy, the
// functional check logging in with the generated password. It logs the time
// from start to "done" (the figure the issue asks for).
func TestWizardYesOnDemoStack(t *testing.T) {
	port := freePort(t)
	s := newStack(t, fmt.Sprintf(`
  redis:
    image: IMAGE
    restart: unless-stopped
    environment: {FAKE_MODE: redis, FAKE_PASSWORD_FILE: /run/secrets/redis_password, FAKE_HEALTHY_AFTER: 1s}
    secrets: [redis_password]
    ports: ["127.0.0.1:%d:6379"]
  app:
    image: IMAGE
    user: "1000:1000"
    environment: {FAKE_SECRET_FILES: "/run/secrets/redis_password,/run/secrets/postgres_password"}
    secrets: [redis_password, postgres_password]
    healthcheck: {disable: true}
`, port), fmt.Sprintf(`checks:
  - {kind: redis-auth, service: redis, secret: REDIS_PASSWORD, address: "127.0.0.1:%d"}
`, port), "redis", "app")
	// A fresh clone: no secrets yet; the wizard makes them.
	for name := range s.values {
		must(t, os.Remove(filepath.Join(s.secrets, name)))
	}
	s.values = map[string]string{}
	env := s.env()
	env["HOME"] = testenv.TempDir(t)
	delete(env, "XDG_STATE_HOME")
	delete(env, "CDB_SETUP_STATE_DIR")

	start := time.Now()
	r := s.run(context.Background(), env, "--yes", "--persist", "none", "--hook=false")
	took := time.Since(start)
	if r.code != 0 {
		t.Fatalf("exit %d:\n%s", r.code, r.stderr)
	}
	t.Logf("cdb-setup --yes on the demo stack: %s from start to done", took.Round(100*time.Millisecond))
	for _, want := range []string{"Created REDIS_PASSWORD", "the stack is up and every service is healthy", "Done in"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("missing %q", want)
		}
	}
	b, err := os.ReadFile(filepath.Join(s.secrets, "REDIS_PASSWORD"))
	if err != nil || !regexp.MustCompile(`^[A-Za-z0-9]{32}$`).Match(b) {
		t.Fatalf("REDIS_PASSWORD not generated (%v)", err)
	}
	s.values["REDIS_PASSWORD"] = string(b) // run() now checks it never appears in output

	// Again on the set-up machine: nothing to create, the stack stays
	// healthy, and up (already running and healthy) is no change: the
	// re-run counts 0 changes.
	r = s.run(context.Background(), env, "--no-input")
	if r.code != 0 || strings.Contains(r.stderr, "Created ") {
		t.Fatalf("re-run exit %d:\n%s", r.code, r.stderr)
	}
	for _, want := range []string{"the stack was already running and healthy: nothing changed", "Everything already done"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("re-run: missing %q", want)
		}
	}
}

// TestWizardDockerUnreachableIsEnvironment: the wizard's up step failing
// because Docker cannot be reached exits 3 (environment missing), like
// `cdb-setup up`, not 1.
func TestWizardDockerUnreachableIsEnvironment(t *testing.T) {
	s := newStackNamed(t, "cdbtwiz", `
  redis:
    image: IMAGE
`, "", "redis")
	env := s.env()
	env["HOME"] = testenv.TempDir(t)
	delete(env, "XDG_STATE_HOME")
	delete(env, "CDB_SETUP_STATE_DIR")
	env["DOCKER_HOST"] = "unix://" + filepath.Join(testenv.TempDir(t), "no-docker.sock")
	r := s.run(context.Background(), env, "--yes", "--persist", "none", "--hook=false", "--keychain=false", "--json")
	// Checked before any question (issue 14): the Engine check fails.
	if r.code != 3 || !strings.Contains(r.stderr, "✗ Docker Engine reachable") {
		t.Fatalf("exit %d, want 3:\n%s", r.code, r.stderr)
	}
	e := parseEnvelope(t, r.stdout)
	if e.ExitCode != 3 || e.Error == nil {
		t.Errorf("envelope %+v", e)
	}
}
