//go:build !windows

package cli

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/claire-de-binare/cdb-setup/internal/testenv"
)

// TestDoctorNewTerminalIsInformation: issue 14. After SECRETS_PATH was made
// permanent, a terminal opened before that has no SECRETS_PATH: doctor
// says so as information (•, open a new terminal), not as a warning; a
// machine where it was never made permanent still gets the warning with
// the fix.
func TestDoctorNewTerminalIsInformation(t *testing.T) {
	testenv.NeedCommand(t, "sh")
	r := newEnvRig(t)
	want := filepath.Join(r.home, "Documents", ".secrets", ".cdb")
	line := func(out string) string {
		for _, l := range strings.Split(out, "\n") {
			if strings.Contains(l, "SECRETS_PATH in this shell") {
				return strings.TrimSpace(l)
			}
		}
		return ""
	}
	_, out, _ := r.run(t, "doctor", "--secrets-path", want)
	if l := line(out); !strings.HasPrefix(l, "! SECRETS_PATH in this shell: not set") {
		t.Errorf("never made permanent: %q, want the warning", l)
	}
	if code, _, stderr := r.run(t, "env", "set", "--yes", "--secrets-path", want); code != 0 {
		t.Fatalf("env set: exit %d\n%s", code, stderr)
	}
	_, out, _ = r.run(t, "doctor", "--secrets-path", want)
	l := line(out)
	if !strings.HasPrefix(l, "• SECRETS_PATH in this shell: not set in this terminal") || !strings.Contains(l, "open a new terminal") {
		t.Errorf("after env set: %q, want information naming a new terminal\n%s", l, out)
	}
	if strings.Contains(out, "fix: cdb-setup env set") && strings.Contains(out, "! SECRETS_PATH in this shell") {
		t.Errorf("still a warning with a fix:\n%s", out)
	}
	// In a terminal that has it, the line is ✓.
	r.env["SECRETS_PATH"] = want
	_, out, _ = r.run(t, "doctor", "--secrets-path", want)
	if l := line(out); !strings.HasPrefix(l, "✓ SECRETS_PATH in this shell: "+want) {
		t.Errorf("with SECRETS_PATH set: %q", l)
	}
}
