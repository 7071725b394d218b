//go:build !windows

package cli

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// Issue 13 item 14: the texts say what is really there.
func TestMisleadingTextsFixed(t *testing.T) {
	env, home := fixtureEnv(t)
	dir := filepath.Join(home, "s")
	if r := runCLI(t, env, "", "secrets", "init", "--no-input", "--secrets-path", dir); r.code != 0 {
		t.Fatalf("init: exit %d\n%s", r.code, r.stderr)
	}

	// A FIFO (or a link) in place of a secret is not "a folder Docker made".
	smtp := filepath.Join(dir, "SMTP_FROM")
	os.Remove(smtp)
	if err := syscall.Mkfifo(smtp, 0o600); err != nil {
		t.Fatal(err)
	}
	r := runCLI(t, env, "", "secrets", "fix", "--yes", "--secrets-path", dir)
	if r.code == 0 || strings.Contains(r.stderr, "Docker creates a folder") || strings.Contains(r.stderr, "not empty") || !strings.Contains(r.stderr, smtp) {
		t.Errorf("FIFO: exit %d\n%s", r.code, r.stderr)
	}
	os.Remove(smtp)
	os.WriteFile(smtp, nil, 0o644)

	// A .backup symlink: the fix is about the link, not --secrets-path.
	elsewhere := filepath.Join(home, "elsewhere")
	os.Mkdir(elsewhere, 0o700)
	if err := os.Symlink(elsewhere, filepath.Join(dir, ".backup")); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "GRAFANA_PASSWORD"), []byte("abcdefghijklmnopqrstuvwxyz012345\r\n"), 0o644)
	r = runCLI(t, env, "", "secrets", "fix", "--yes", "--secrets-path", dir)
	if r.code == 0 || strings.Contains(r.stderr, "--secrets-path "+elsewhere) || !strings.Contains(r.stderr, "backup folder") {
		t.Errorf(".backup link: exit %d\n%s", r.code, r.stderr)
	}

	// Flags that take no value do not look as if they took one.
	for _, c := range []struct {
		args []string
		bad  string
		want string
	}{
		{[]string{"secrets", "init", "--help"}, "--answers secrets:", "--answers FILE"},
		{[]string{"hook", "install", "--help"}, "--install-gitleaks go install", "--install-gitleaks "},
	} {
		r := runCLI(t, env, "", c.args...)
		out := r.stdout + r.stderr
		if strings.Contains(out, c.bad) || !strings.Contains(out, c.want) {
			t.Errorf("%v:\n%s", c.args, out)
		}
	}
}
