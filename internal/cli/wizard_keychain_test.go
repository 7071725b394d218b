package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/claire-de-binare/cdb-setup/internal/manifest"
	"github.com/claire-de-binare/cdb-setup/internal/secrets"
	"github.com/claire-de-binare/cdb-setup/internal/testenv"
	"github.com/claire-de-binare/cdb-setup/internal/testenv/keychaintest"
)

// The reinstall path on the real Secret Service: set up with the keychain
// mirror, lose the secrets folder, run the wizard again — the files come
// back byte for byte from the keychain instead of new passwords that the
// volumes would refuse.
func TestWizardReinstallRestoresFromRealKeychain(t *testing.T) {
	testenv.NeedSecretService(t)
	h := newWizardHarness(t)
	for _, k := range []string{"DBUS_SESSION_BUS_ADDRESS", "XDG_RUNTIME_DIR", "XDG_DATA_HOME"} {
		h.env[k] = os.Getenv(k)
	}
	// Under the temp home on every OS (on Windows the default would be the
	// real known Documents folder).
	dir := filepath.Join(h.home, "Documents", ".secrets", ".cdb")
	probe := h.factory()
	probe.Global.Repo = h.repo // no git under Wine to find it
	if !keychainAnswers(probe)(context.Background()) {
		testenv.Need(t, false, "a usable OS keychain")
	}
	svc := secrets.KeychainService(manifest.Default().Project, dir)
	names := []string{secrets.KeychainIndexUser}
	for n := range manifest.Default().Secrets {
		names = append(names, n)
	}
	keychaintest.CleanAfter(t, &secrets.Keychain{}, svc, names)
	// The files an earlier `secrets init` made (not in this version yet).
	os.MkdirAll(dir, 0o700)
	want := map[string][]byte{"REDIS_PASSWORD": []byte("r3dis" + strings.Repeat("x", 27)), "POSTGRES_PASSWORD": []byte("p0stgres" + strings.Repeat("y", 24))}
	for n, v := range want {
		os.WriteFile(filepath.Join(dir, n), v, 0o644)
	}
	real := func(o *WizardOptions) {
		b := setupBuilders(o.F)
		o.Builders = &b
	}
	if code := h.run(t, real, "--yes", "--hook=false", "--start=false", "--persist", "none", "--secrets-path", dir); code != 0 {
		t.Fatalf("exit %d\n%s", code, h.err.String())
	}
	if !strings.Contains(h.err.String(), "REDIS_PASSWORD mirrored into the keychain") {
		t.Fatalf("not mirrored:\n%s", h.err.String())
	}

	for n := range want { // the wipe (file by file: Wine cannot remove a full folder)
		os.Remove(filepath.Join(dir, n))
	}
	if code := h.run(t, real, "--yes", "--hook=false", "--start=false", "--persist", "none", "--secrets-path", dir); code != 0 {
		t.Fatalf("exit %d\n%s", code, h.err.String())
	}
	// Planned up front, POSTGRES_PASSWORD_DSN looks stale (its password is
	// gone); the plan says it is checked again once the restore ran.
	if !strings.Contains(h.err.String(), "(checked again after the changes above)") {
		t.Errorf("no deferred plan line:\n%s", h.err.String())
	}
	for n, v := range want {
		got, err := os.ReadFile(filepath.Join(dir, n))
		if err != nil || !bytes.Equal(got, v) {
			t.Errorf("%s not restored (%v)", n, err)
		}
	}
	for _, v := range want {
		if strings.Contains(h.err.String()+h.out.String(), string(v)) {
			t.Fatal("a secret value was printed")
		}
	}
}
