package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Issue 13 item 7: temp files a killed run left (a secret's temp, a backup's,
// the state file's, an rc file's) are reported by doctor and removed by
// `secrets fix`; files that only look similar are left alone.
func TestCrashLeftoversReportedAndRemoved(t *testing.T) {
	env, home := fixtureEnv(t)
	dir := filepath.Join(home, "s")
	if r := runCLI(t, env, "", "secrets", "init", "--no-input", "--secrets-path", dir); r.code != 0 {
		t.Fatalf("init: exit %d\n%s", r.code, r.stderr)
	}
	state := env["CDB_SETUP_STATE_DIR"]
	ours := []string{
		filepath.Join(dir, ".POSTGRES_PASSWORD.tmp-0123456789ab"),
		filepath.Join(dir, ".backup", ".REDIS_PASSWORD.20260101T000000Z.tmp-a1b2c3d4e5f6"),
		filepath.Join(state, ".state.json.tmp-00aa11bb22cc"),
		filepath.Join(home, "..profile.tmp-ffeeddccbbaa"),
	}
	notOurs := []string{
		filepath.Join(dir, ".backup", "notes.tmp-0123456789ab"), // no leading dot
		filepath.Join(home, ".x.tmp-notahexname1"),
		filepath.Join(home, ".y.tmp-0123456789ab.bak"),
	}
	old := time.Now().Add(-time.Hour)
	for _, p := range append(append([]string{}, ours...), notOurs...) {
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("leftover-content-of-a-secret"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, old, old); err != nil {
			t.Fatal(err)
		}
	}
	r := runCLI(t, env, "", "doctor", "--secrets-path", dir)
	for _, p := range ours {
		if !strings.Contains(r.stderr+r.stdout, p) {
			t.Errorf("doctor does not report %s:\n%s", p, r.stderr)
		}
	}
	for _, p := range notOurs {
		if strings.Contains(r.stderr+r.stdout, p) {
			t.Errorf("doctor reports a file that is not ours: %s", p)
		}
	}
	if r := runCLI(t, env, "", "secrets", "fix", "--yes", "--secrets-path", dir); r.code != 0 {
		t.Fatalf("fix: exit %d\n%s", r.code, r.stderr)
	}
	for _, p := range ours {
		if _, err := os.Lstat(p); err == nil {
			t.Errorf("fix left %s", p)
		}
	}
	for _, p := range notOurs {
		if _, err := os.Lstat(p); err != nil {
			t.Errorf("fix removed %s, which is not ours", p)
		}
	}
}
