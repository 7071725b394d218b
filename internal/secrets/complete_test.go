package secrets

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/claire-de-binare/cdb-setup/internal/manifest"
	"github.com/claire-de-binare/cdb-setup/internal/testenv"
)

// Complete decides whether a no-op init may skip the keychain: only when
// init would write no new value.
func TestComplete(t *testing.T) {
	dir := testenv.TempDir(t)
	gen := Secret{Name: "POSTGRES_PASSWORD", Path: filepath.Join(dir, "POSTGRES_PASSWORD"), Policy: manifest.Secret{Kind: manifest.KindGenerated}}
	opt := Secret{Name: "SMTP_USER", Path: filepath.Join(dir, "SMTP_USER"), Policy: manifest.Secret{Kind: manifest.KindExternal, Optional: true}}
	req := Secret{Name: "API_KEY", Path: filepath.Join(dir, "API_KEY"), Policy: manifest.Secret{Kind: manifest.KindExternal}}
	c := &Catalogue{Dir: dir, Secrets: []Secret{gen, opt, req}}
	write := func(s Secret, v string) {
		t.Helper()
		if err := os.WriteFile(s.Path, []byte(v), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if Complete(c) {
		t.Fatal("nothing there: init makes values")
	}
	write(gen, "x")
	write(req, "k")
	if Complete(c) {
		t.Fatal("an optional secret's file is missing: init creates it")
	}
	write(opt, "") // not configured: init leaves it empty
	if !Complete(c) {
		t.Fatal("every file there, only an optional one empty")
	}
	write(gen, "") // empty generated: init generates it
	if Complete(c) {
		t.Fatal("an empty generated secret")
	}
	write(gen, "x")
	if err := os.Remove(req.Path); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(req.Path, 0o700); err != nil {
		t.Fatal(err)
	}
	if Complete(c) {
		t.Fatal("a folder where a secret file should be")
	}
}
