package cli

import (
	"crypto/rand"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/claire-de-binare/cdb-setup/internal/platform"
)

// TestReportsGoToStdout: issue 14, "The CLI's manners". Help and every
// command's report are on stdout, so `cdb-setup --help | less` and
// `cdb-setup doctor | grep fix` work; progress stays on stderr. Under
// --json stdout is still exactly one envelope and the report moves to
// stderr.
func TestReportsGoToStdout(t *testing.T) {
	r := newWSRig(t)
	dir := filepath.Join(r.home, "secrets")
	// Its own project: volumes of another copy of the demo on this Engine
	// must not count.
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	env := platform.MapEnvironment{"CDB_SETUP_REPO": r.repo, "CDB_SETUP_SECRETS_PATH": dir, "CDB_SETUP_PROJECT": "cdbtstreams" + hex.EncodeToString(b)}
	for k, v := range r.env {
		env[k] = v
	}
	if init := runCLI(t, env, "", "secrets", "init", "--no-input"); init.code != 0 {
		t.Fatalf("secrets init: exit %d\n%s", init.code, init.stderr)
	}
	cases := []struct {
		args []string
		want string // a line of the report
	}{
		{[]string{"--help"}, "Usage:"},
		{[]string{"help", "secrets"}, "Usage:"},
		{[]string{"secrets"}, "Available Commands:"},
		{[]string{"up", "--help"}, "--profile"},
		{[]string{"doctor"}, "✓ Secrets folder: " + dir},
		{[]string{"secrets", "check"}, "All secrets are in order."},
		{[]string{"env", "status", "--no-shells"}, "SECRETS_PATH should be " + dir},
		{[]string{"hook", "status"}, "protected: false"},
		{[]string{"manifest", "print"}, "compose_dir: infrastructure/compose"},
	}
	for _, c := range cases {
		name := strings.Join(c.args, " ")
		got := runCLI(t, env, "", c.args...)
		if !strings.Contains(got.stdout, c.want) {
			t.Errorf("%s: stdout lacks %q (exit %d)\nstdout:\n%s\nstderr:\n%s", name, c.want, got.code, got.stdout, got.stderr)
		}
		if strings.Contains(got.stderr, c.want) {
			t.Errorf("%s: the report is on stderr too:\n%s", name, got.stderr)
		}
		// `| grep fix`: doctor's fixes are in what the pipe reads.
		if c.args[0] == "doctor" && strings.Contains(got.stderr, "fix:") {
			t.Errorf("doctor: a fix is on stderr, not in the report:\n%s", got.stderr)
		}
		js := runCLI(t, env, "", append(append([]string(nil), c.args...), "--json")...)
		if e := parseEnvelope(t, js.stdout); e.ExitCode != js.code {
			t.Errorf("%s --json: envelope exit %d, process %d", name, e.ExitCode, js.code)
		}
		if c.args[0] != "manifest" && !strings.Contains(js.stderr, c.want) {
			t.Errorf("%s --json: the human report is not on stderr:\n%s", name, js.stderr)
		}
	}
	// CDB_SETUP_JSON asks for the envelope like --json, help included.
	env["CDB_SETUP_JSON"] = "1"
	got := runCLI(t, env, "", "--help")
	parseEnvelope(t, got.stdout)
	if !strings.Contains(got.stderr, "Usage:") {
		t.Errorf("--help under CDB_SETUP_JSON: help is not on stderr:\n%s", got.stderr)
	}
	if _, err := os.Stat(dir); err != nil {
		t.Fatal(err)
	}
}
