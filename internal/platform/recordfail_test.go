//go:build !windows

package platform

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/claire-de-binare/cdb-setup/internal/step"
)

// Issue 13 item 8: the state file cannot be saved (a full disk; here the
// state folder's path is taken by a file, a real ENOTDIR): the rc file
// `env set` created is removed again and an existing one put back, so a
// later `env unset` finds nothing it does not know (no empty ~/.zshenv).
func TestEnvSetRollsBackWhenTheRecordFails(t *testing.T) {
	h := newShellHome(t, "/bin/zsh")
	h.write(t, ".zprofile", "# the user's own\n")
	before := snapshot(t, h.home)
	if _, err := os.Lstat(filepath.Join(h.home, ".zshenv")); err == nil {
		t.Fatal("fixture: .zshenv exists")
	}
	steps, err := PersistEnvSteps(h.opts(filepath.Join(h.home, "Documents", ".secrets", ".cdb")))
	if err != nil {
		t.Fatal(err)
	}
	// Plan first (as the CLI does), then break the state folder.
	if err := os.RemoveAll(h.sdir); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(h.sdir, []byte("not a folder"), 0o600); err != nil {
		t.Fatal(err)
	}
	rep, err := step.Run(context.Background(), steps, step.Options{KeepGoing: true})
	if err != nil {
		t.Fatal(err)
	}
	failed := 0
	for _, r := range rep.Results {
		if r.Status == step.StatusFailed {
			failed++
			if !strings.Contains(r.Detail, "undone") {
				t.Errorf("%s: %s", r.Step, r.Detail)
			}
		}
	}
	if failed == 0 {
		t.Fatal("no step failed although the state could not be saved")
	}
	after := snapshot(t, h.home)
	for p, v := range before {
		if after[p] != v {
			t.Errorf("%s changed", p)
		}
	}
	for p := range after {
		if _, ok := before[p]; !ok {
			t.Errorf("%s left behind", p)
		}
	}
	if len(h.state.Records) != 0 {
		t.Errorf("records kept in memory: %+v", h.state.Records)
	}

	// env unset afterwards: nothing to undo, nothing created.
	os.Remove(h.sdir)
	undoAll(t, h)
	final := snapshot(t, h.home)
	if len(final) != len(before) {
		t.Errorf("env unset changed the home: %d entries, want %d", len(final), len(before))
	}
}
