package cli

import (
	"encoding/json"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/claire-de-binare/cdb-setup/internal/exitcode"
	"github.com/claire-de-binare/cdb-setup/internal/testenv"
)

func TestDoctorExitAndJSON(t *testing.T) {
	h := newWizardHarness(t)
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
	if err := json.Unmarshal(h.out.Bytes(), &out); err != nil {
		t.Fatalf("%v\n%s", err, h.out.String())
	}
	if out.Failures == 0 || len(out.NotAvailable) == 0 {
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
	if code := h.run(t, nil, "doctor"); code != 0 {
		t.Fatalf("exit %d\n%s", code, h.err.String())
	}
	if !strings.Contains(h.err.String(), "No problems;") {
		t.Errorf("%s", h.err.String())
	}
}
