package cli

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/claire-de-binare/cdb-setup/internal/exitcode"
	"github.com/claire-de-binare/cdb-setup/internal/platform"
	"github.com/claire-de-binare/cdb-setup/internal/testenv"
)

// uniqueProject gives a test that reaches the real Engine its own compose
// project: doctor looks at <project>_postgres_data, and the built-in "cdb"
// would find whatever volume of that name the machine already has.
func uniqueProject(t *testing.T, env platform.MapEnvironment) string {
	t.Helper()
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	name := "cdbtdoc" + hex.EncodeToString(b)
	env["CDB_SETUP_PROJECT"] = name
	env["STACK_NAME"] = name
	return name
}

func TestDoctorExitAndJSON(t *testing.T) {
	h := newWizardHarness(t)
	project := uniqueProject(t, h.env)
	// Under the temp home on every OS (on Windows the default is the real
	// known Documents folder).
	h.env["CDB_SETUP_SECRETS_PATH"] = filepath.Join(h.home, "Documents", ".secrets", ".cdb")
	// Fresh machine: no secrets folder → ✗ and exit 1, every line with a fix.
	code := h.run(t, nil, "doctor", "--json")
	if code != exitcode.Failed {
		t.Fatalf("exit %d\n%s", code, h.err.String())
	}
	var out struct {
		Checks []struct {
			ID, Status, Detail, Fix string
		}
		Failures     int
		NotAvailable []string `json:"not_available"`
	}
	if ok := envelopeData(t, h.out.String(), &out); ok {
		t.Errorf("envelope ok although doctor failed")
	}
	if out.Failures == 0 || len(out.NotAvailable) != 0 {
		t.Errorf("%+v", out)
	}
	for _, c := range out.Checks {
		if (c.Status == "fail" || c.Status == "warn") && c.Fix == "" {
			t.Errorf("%s is %s without a fix", c.ID, c.Status)
		}
	}
	if !strings.Contains(h.err.String(), "✗ Secrets folder:") || !strings.Contains(h.err.String(), "fix: cdb-setup secrets init --secrets-path") {
		t.Errorf("%s", h.err.String())
	}

	if runtime.GOOS == "windows" {
		return // ACLs set by secrets init take effect only on real Windows (not under Wine)
	}
	git := testenv.NeedCommand(t, "git")
	h.env["PATH"] = filepath.Dir(git)
	gitInit(t, h.repo)
	// Everything in place: warnings only (no hook, SECRETS_PATH not in new shells) → exit 0.
	dir := filepath.Join(h.home, "Documents", ".secrets", ".cdb")
	if code := h.run(t, nil, "secrets", "init", "--no-input"); code != 0 {
		t.Fatalf("secrets init: exit %d\n%s", code, h.err.String())
	}
	h.env["SECRETS_PATH"] = dir
	// Docker and Compose v2 are the stack's environment, not this setup:
	// with them (CI: scripts/test.sh), doctor has nothing to fail on;
	// without them, they are the only ✗ lines.
	compose := os.Getenv("CDB_SETUP_COMPOSE")
	h.env["CDB_SETUP_COMPOSE"] = compose
	code = h.run(t, nil, "doctor")
	if compose == "" {
		for _, line := range strings.Split(h.out.String(), "\n") {
			if line = strings.TrimSpace(line); strings.HasPrefix(line, "✗ ") && !strings.HasPrefix(line, "✗ Docker") {
				t.Errorf("unexpected problem: %s", line)
			}
		}
		return
	}
	if code != 0 || !strings.Contains(h.out.String(), "No problems;") {
		t.Errorf("exit %d\n%s", code, h.out.String())
	}
	if !strings.Contains(h.out.String(), project+"_postgres_data") {
		t.Errorf("the volumes check did not look at this test's project %s:\n%s", project, h.out.String())
	}
}

// doctor --offline leaves out every check that needs Docker (even with an
// Engine that would answer nothing: its socket does not exist), still runs
// the rest, and says how to get the Docker checks.
func TestDoctorOffline(t *testing.T) {
	h := newWizardHarness(t)
	uniqueProject(t, h.env)
	h.env["CDB_SETUP_SECRETS_PATH"] = filepath.Join(h.home, "Documents", ".secrets", ".cdb")
	h.env["DOCKER_HOST"] = "unix://" + filepath.Join(testenv.TempDir(t), "no-docker.sock")
	code := h.run(t, nil, "doctor", "--offline", "--json")
	if code != exitcode.Failed {
		t.Fatalf("exit %d (want 1: no secrets folder yet)\n%s", code, h.err.String())
	}
	var out struct {
		Checks []struct{ ID, Status, Detail string }
	}
	envelopeData(t, h.out.String(), &out)
	ids := map[string]string{}
	for _, c := range out.Checks {
		ids[c.ID] = c.Status
	}
	for _, docker := range []string{"docker.engine", "docker.compose", "images.available", "volumes.secrets", "stack.logins", "stack.running", "ports.free"} {
		if _, ran := ids[docker]; ran {
			t.Errorf("--offline ran %s", docker)
		}
	}
	if ids["docker"] != "skip" || ids["secrets-folder"] != "fail" || ids["system"] != "ok" {
		t.Errorf("checks: %v", ids)
	}
	if !strings.Contains(h.err.String(), "Docker checks skipped (--offline); for them run `cdb-setup doctor") {
		t.Errorf("no hint to the full doctor:\n%s", h.err.String())
	}
	// Without --offline the Engine is tried (and is unreachable here).
	h.run(t, nil, "doctor", "--json")
	if !strings.Contains(h.out.String(), `"docker.engine"`) {
		t.Errorf("doctor without --offline did not check the Engine:\n%s", h.out.String())
	}
}

// The stack's checks appear in doctor: a published port that something
// else holds is a ✗ with the fix.
func TestDoctorPortConflict(t *testing.T) {
	h := newWizardHarness(t)
	_ = uniqueProject(t, h.env)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	dev := fmt.Sprintf("services:\n  cdb_redis:\n    ports: [\"127.0.0.1:%d:6379\"]\n", port)
	if err := os.WriteFile(filepath.Join(h.repo, "infrastructure/compose/dev.yml"), []byte(dev), 0o644); err != nil {
		t.Fatal(err)
	}
	code := h.run(t, nil, "doctor")
	if code != exitcode.Failed {
		t.Fatalf("exit %d\n%s", code, h.out.String())
	}
	out := h.out.String()
	if !strings.Contains(out, "✗ Published host ports are free") || !strings.Contains(out, fmt.Sprintf("127.0.0.1:%d", port)) {
		t.Errorf("%s", out)
	}
}
