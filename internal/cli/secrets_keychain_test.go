package cli

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/claire-de-binare/cdb-setup/internal/exitcode"
	"github.com/claire-de-binare/cdb-setup/internal/platform"
	"github.com/claire-de-binare/cdb-setup/internal/secrets"
	"github.com/claire-de-binare/cdb-setup/internal/testenv"
)

// needKeychain skips (fails under CDB_SETUP_REQUIRE_ALL=1) without a usable
// OS keychain: on Linux the Secret Service scripts/test.sh starts.
func needKeychain(t *testing.T) {
	t.Helper()
	testenv.NeedSecretService(t)
	_, err := (&secrets.Keychain{}).Get(context.Background(), "cdb-setup:test:probe", "/probe")
	testenv.Need(t, secrets.IsKeychainKind(err, secrets.KeychainNotFound), fmt.Sprintf("a usable OS keychain (probe: %v)", err))
}

// purgeMirrors removes every keychain mirror recorded in the test's state.
func purgeMirrors(t *testing.T, stateDir string) {
	t.Cleanup(func() {
		st, err := platform.LoadState(stateDir)
		if err != nil {
			return
		}
		for _, r := range st.Find(secrets.KeychainRecordKind) {
			_ = (&secrets.Keychain{}).Purge(context.Background(), r)
		}
	})
}

// readSecrets reads every file of dir (values stay in the test process).
func readSecrets(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, e := range ents {
		if e.Type().IsRegular() {
			b, err := os.ReadFile(filepath.Join(dir, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			out[e.Name()] = b
		}
	}
	return out
}

// noValueIn fails when any non-trivial secret value appears in out.
func noValueIn(t *testing.T, out string, values map[string][]byte) {
	t.Helper()
	for n, v := range values {
		if len(v) >= 8 && strings.Contains(out, string(v)) {
			t.Fatalf("the value of %s appears in the output", n)
		}
	}
}

// removeAll deletes dir entry by entry (Wine-safe), .backup included.
func removeAll(t *testing.T, dir string) {
	t.Helper()
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		p := filepath.Join(dir, e.Name())
		if e.IsDir() {
			removeAll(t, p)
			continue
		}
		if err := os.Remove(p); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Remove(dir); err != nil {
		t.Fatal(err)
	}
}

// TestSecretsInitRestoresFromKeychain: push, wipe the folder, and init
// restores the exact bytes instead of generating (the volumes keep the old
// passwords); the plan shows it; rotate then updates the mirror.
func TestSecretsInitRestoresFromKeychain(t *testing.T) {
	needKeychain(t)
	env, home := fixtureEnv(t)
	purgeMirrors(t, env["CDB_SETUP_STATE_DIR"])
	dir := filepath.Join(home, "s")
	sp := []string{"--secrets-path", dir}

	if r := runCLI(t, env, "", append([]string{"secrets", "init", "--no-input"}, sp...)...); r.code != 0 {
		t.Fatalf("init: exit %d\n%s", r.code, r.stderr)
	}
	orig := readSecrets(t, dir)
	if r := runCLI(t, env, "", append([]string{"keychain", "push"}, sp...)...); r.code != 0 {
		t.Fatalf("push: exit %d\n%s", r.code, r.stderr)
	}
	removeAll(t, dir)

	// --dry-run: the plan says restore, not generate, and nothing is written.
	r := runCLI(t, env, "", append([]string{"secrets", "init", "--no-input", "--dry-run"}, sp...)...)
	if r.code != 0 || !strings.Contains(r.stderr, "restore POSTGRES_PASSWORD from the keychain") ||
		!strings.Contains(r.stderr, "POSTGRES_PASSWORD: kept as restored from the keychain (not generated)") ||
		strings.Contains(r.stderr, "create POSTGRES_PASSWORD (generated") {
		t.Fatalf("dry run: exit %d\n%s", r.code, r.stderr)
	}
	if _, err := os.Lstat(dir); err == nil {
		t.Fatal("--dry-run wrote the folder")
	}

	r = runCLI(t, env, "", append([]string{"secrets", "init", "--yes"}, sp...)...)
	if r.code != 0 || !strings.Contains(r.stderr, "POSTGRES_PASSWORD restored from the keychain") ||
		!strings.Contains(r.stderr, "POSTGRES_PASSWORD already exists") {
		t.Fatalf("init --yes: exit %d\n%s", r.code, r.stderr)
	}
	noValueIn(t, r.stdout+r.stderr, orig)
	got := readSecrets(t, dir)
	for n, v := range orig {
		if !bytes.Equal(got[n], v) {
			t.Fatalf("%s: %d bytes after init, not the %d mirrored ones", n, len(got[n]), len(v))
		}
	}
	// init's folder step ran first, so uninstall --purge knows the folder.
	st, _ := platform.LoadState(env["CDB_SETUP_STATE_DIR"])
	if recs := st.Find(secretsKind); len(recs) != 1 || recs[0].Target != dir {
		t.Fatalf("secrets-folder records: %+v", recs)
	}

	// rotate: the new value reaches the keychain too.
	r = runCLI(t, env, "", append([]string{"secrets", "rotate", "REDIS_PASSWORD"}, sp...)...)
	if r.code != 0 || !strings.Contains(r.stderr, "keychain mirror updated: REDIS_PASSWORD") {
		t.Fatalf("rotate: exit %d\n%s", r.code, r.stderr)
	}
	rotated, _ := os.ReadFile(filepath.Join(dir, "REDIS_PASSWORD"))
	noValueIn(t, r.stdout+r.stderr, map[string][]byte{"old": orig["REDIS_PASSWORD"], "new": rotated})
	if bytes.Equal(rotated, orig["REDIS_PASSWORD"]) {
		t.Fatal("rotate kept the value")
	}
	kc := &secrets.Keychain{}
	svc := secrets.KeychainService("cdb", dir)
	enc, err := kc.Get(context.Background(), svc, "REDIS_PASSWORD")
	if err != nil {
		t.Fatal(err)
	}
	if v, err := secrets.KeychainDecode(enc); err != nil || !bytes.Equal(v, rotated) {
		t.Fatalf("the keychain copy is not the rotated value (%d bytes, err %v)", len(v), err)
	}
	if r = runCLI(t, env, "", append([]string{"keychain", "status"}, sp...)...); r.code != 0 || !strings.Contains(r.stdout, "in sync") || strings.Contains(r.stdout, "differs") {
		t.Fatalf("status after rotate: exit %d\n%s", r.code, r.stdout)
	}

	// --no-keychain generates instead of restoring.
	os.Remove(filepath.Join(dir, "GRAFANA_PASSWORD"))
	r = runCLI(t, env, "", append([]string{"secrets", "init", "--yes", "--no-keychain"}, sp...)...)
	if b, _ := os.ReadFile(filepath.Join(dir, "GRAFANA_PASSWORD")); r.code != 0 || len(b) != 32 || bytes.Equal(b, orig["GRAFANA_PASSWORD"]) {
		t.Fatalf("--no-keychain: exit %d, restored or not generated\n%s", r.code, r.stderr)
	}

	// On a terminal init asks; "n" generates, Enter restores.
	for _, c := range []struct {
		answer  string
		restore bool
	}{{"n\n", false}, {"\n", true}} {
		os.Remove(filepath.Join(dir, "REDIS_PASSWORD"))
		var out, errOut bytes.Buffer
		io := &IOStreams{In: strings.NewReader(c.answer), Out: &out, ErrOut: &errOut, InTTY: true, ErrTTY: true}
		if code := Main(context.Background(), append([]string{"secrets", "init"}, sp...), io, env); code != 0 {
			t.Fatalf("answer %q: exit %d\n%s", c.answer, code, errOut.String())
		}
		if !strings.Contains(errOut.String(), "[Y/n]") {
			t.Fatalf("answer %q: no question asked\n%s", c.answer, errOut.String())
		}
		b, _ := os.ReadFile(filepath.Join(dir, "REDIS_PASSWORD"))
		if bytes.Equal(b, rotated) != c.restore || len(b) != 32 {
			t.Fatalf("answer %q: restored=%v, want %v", c.answer, bytes.Equal(b, rotated), c.restore)
		}
	}
}

// TestSecretsInitWithoutKeychain: no keychain is one line, then init
// generates as usual; rotate says the mirror could not be checked.
func TestSecretsInitWithoutKeychain(t *testing.T) {
	old := secretsKeychain
	secretsKeychain = func() *secrets.Keychain { return &secrets.Keychain{Backend: kcBrokenBackend{}} }
	t.Cleanup(func() { secretsKeychain = old })
	env, home := fixtureEnv(t)
	dir := filepath.Join(home, "s")
	r := runCLI(t, env, "", "secrets", "init", "--yes", "--secrets-path", dir)
	if r.code != 0 || strings.Count(r.stderr, "keychain not checked for copies of missing secrets") != 1 || !strings.Contains(r.stderr, "Created REDIS_PASSWORD") {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	r = runCLI(t, env, "", "secrets", "init", "--yes", "--no-keychain", "--secrets-path", filepath.Join(home, "t"))
	if r.code != 0 || strings.Contains(r.stderr, "keychain") {
		t.Fatalf("--no-keychain still looked: exit %d\n%s", r.code, r.stderr)
	}
	r = runCLI(t, env, "", "secrets", "rotate", "REDIS_PASSWORD", "--secrets-path", dir)
	if r.code != 0 || !strings.Contains(r.stderr, "keychain could not be checked") || !strings.Contains(r.stderr, "cdb-setup keychain push") {
		t.Fatalf("rotate: exit %d\n%s", r.code, r.stderr)
	}
}

// TestUninstallPurgeSecrets: uninstall keeps the secrets (and says so);
// uninstall --purge deletes the folder init created and the keychain mirror.
func TestUninstallPurgeSecrets(t *testing.T) {
	env, home := fixtureEnv(t)
	stateDir := env["CDB_SETUP_STATE_DIR"]
	purgeMirrors(t, stateDir)
	dir := filepath.Join(home, "s")
	sp := []string{"--secrets-path", dir}
	if r := runCLI(t, env, "", append([]string{"secrets", "init", "--no-input"}, sp...)...); r.code != 0 {
		t.Fatalf("init: exit %d\n%s", r.code, r.stderr)
	}
	values := readSecrets(t, dir)
	// A rotation leaves a backup; purge removes it too.
	if r := runCLI(t, env, "", append([]string{"secrets", "rotate", "REDIS_PASSWORD"}, sp...)...); r.code != 0 {
		t.Fatalf("rotate: exit %d\n%s", r.code, r.stderr)
	}
	pushed := false
	if _, err := (&secrets.Keychain{}).Get(context.Background(), "cdb-setup:test:probe", "/probe"); secrets.IsKeychainKind(err, secrets.KeychainNotFound) {
		if r := runCLI(t, env, "", append([]string{"keychain", "push"}, sp...)...); r.code != 0 {
			t.Fatalf("push: exit %d\n%s", r.code, r.stderr)
		}
		pushed = true
	}

	r := runCLI(t, env, "", append([]string{"uninstall"}, sp...)...)
	if r.code != 0 || !strings.Contains(r.stderr, "secrets kept in "+dir+" (pass --purge to delete them)") {
		t.Fatalf("uninstall: exit %d\n%s", r.code, r.stderr)
	}
	if pushed && !strings.Contains(r.stderr, "keychain mirror cdb-setup:cdb:") {
		t.Fatalf("uninstall does not say the mirror is kept:\n%s", r.stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "REDIS_PASSWORD")); err != nil {
		t.Fatal("uninstall without --purge touched the secrets")
	}

	// A file cdb-setup does not know keeps the folder, and the record.
	foreign := filepath.Join(dir, "notes.txt")
	os.WriteFile(foreign, []byte("mine"), 0o600)
	r = runCLI(t, env, "", append([]string{"uninstall", "--purge"}, sp...)...)
	if r.code != 0 || !strings.Contains(r.stderr, "notes.txt left") || !strings.Contains(r.stderr, "deletes only the secret files the compose files of") {
		t.Fatalf("purge with a foreign file: exit %d\n%s", r.code, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "REDIS_PASSWORD")); err == nil {
		t.Fatal("purge left a secret file")
	}
	if _, err := os.Stat(filepath.Join(dir, secrets.BackupDirName)); err == nil {
		t.Fatal("purge left the backups")
	}
	noValueIn(t, r.stdout+r.stderr, values)
	if pushed {
		st, err := secrets.NewKeychainMirror(&secrets.Keychain{}, "cdb", &secrets.Catalogue{Dir: dir}).Status(context.Background())
		if err != nil || st.Mirrored {
			t.Fatalf("the keychain mirror survived --purge (mirrored=%v, err %v)", st.Mirrored, err)
		}
	}

	os.Remove(foreign)
	r = runCLI(t, env, "", append([]string{"uninstall", "--purge"}, sp...)...)
	if r.code != 0 || !strings.Contains(r.stderr, "deleted the secrets folder "+dir) {
		t.Fatalf("purge: exit %d\n%s", r.code, r.stderr)
	}
	if _, err := os.Lstat(dir); err == nil {
		t.Fatal("the secrets folder survived --purge")
	}
	if strings.Contains(r.stderr, "cannot delete the secrets folder") {
		t.Fatal("the old 'cannot delete yet' message is still printed")
	}
	st, _ := platform.LoadState(stateDir)
	if len(st.Find(secretsKind)) != 0 {
		t.Fatal("the folder's record was kept after it was deleted")
	}
	if r = runCLI(t, env, "", append([]string{"uninstall", "--purge"}, sp...)...); r.code != exitcode.OK || !strings.Contains(r.stderr, "records no secrets folder") {
		t.Fatalf("purge again: exit %d\n%s", r.code, r.stderr)
	}
}

// TestUninstallPurgeWithoutRepo: without the compose files cdb-setup cannot
// tell which files are secrets, so Purge keeps them and uninstall says why.
// The repo recorded at init is used first, so here it has moved away.
func TestUninstallPurgeWithoutRepo(t *testing.T) {
	old := secretsKeychain
	secretsKeychain = func() *secrets.Keychain { return &secrets.Keychain{Backend: kcBrokenBackend{}} }
	t.Cleanup(func() { secretsKeychain = old })
	env, home := fixtureEnv(t)
	repo := filepath.Join(home, "clone")
	if err := os.CopyFS(repo, os.DirFS(env["CDB_SETUP_REPO"])); err != nil {
		t.Fatal(err)
	}
	env["CDB_SETUP_REPO"] = repo
	dir := filepath.Join(home, "s")
	if r := runCLI(t, env, "", "secrets", "init", "--yes", "--secrets-path", dir); r.code != 0 {
		t.Fatalf("init: exit %d\n%s", r.code, r.stderr)
	}
	values := readSecrets(t, dir)
	moved := repo + "-moved"
	if err := os.Rename(repo, moved); err != nil {
		t.Fatal(err)
	}
	elsewhere := platform.MapEnvironment{}
	for k, v := range env {
		elsewhere[k] = v
	}
	elsewhere["CDB_SETUP_REPO"] = testenv.TempDir(t)
	r := runCLI(t, elsewhere, "", "uninstall", "--purge", "--secrets-path", dir)
	if r.code != 0 || !strings.Contains(r.stderr, "secrets folder "+dir+" kept") || !strings.Contains(r.stderr, "cannot tell which files are secrets") {
		t.Fatalf("purge without the repo: exit %d\n%s", r.code, r.stderr)
	}
	if got := readSecrets(t, dir); !bytes.Equal(got["REDIS_PASSWORD"], values["REDIS_PASSWORD"]) {
		t.Fatal("purge without the repo deleted a secret it could not identify")
	}
	noValueIn(t, r.stdout+r.stderr, values)
	if err := os.Rename(moved, repo); err != nil {
		t.Fatal(err)
	}
	// Back in place, the recorded repo is found from anywhere.
	if r = runCLI(t, elsewhere, "", "uninstall", "--purge", "--secrets-path", dir); r.code != 0 || !strings.Contains(r.stderr, "deleted the secrets folder "+dir) {
		t.Fatalf("purge with the repo: exit %d\n%s", r.code, r.stderr)
	}
}

// Issue 13 item 5: init, push, rm POSTGRES_PASSWORD, init --yes: the one
// file is restored byte-exact and the run exits 0 (the DSN is judged after
// the restore, not against the missing password).
func TestSecretsInitRestoresOneFile(t *testing.T) {
	needKeychain(t)
	env, home := fixtureEnv(t)
	purgeMirrors(t, env["CDB_SETUP_STATE_DIR"])
	dir := filepath.Join(home, "s")
	sp := []string{"--secrets-path", dir}
	if r := runCLI(t, env, "", append([]string{"secrets", "init", "--no-input"}, sp...)...); r.code != 0 {
		t.Fatalf("init: exit %d\n%s", r.code, r.stderr)
	}
	orig := readSecrets(t, dir)
	if r := runCLI(t, env, "", append([]string{"keychain", "push"}, sp...)...); r.code != 0 {
		t.Fatalf("push: exit %d\n%s", r.code, r.stderr)
	}
	if err := os.Remove(filepath.Join(dir, "POSTGRES_PASSWORD")); err != nil {
		t.Fatal(err)
	}
	r := runCLI(t, env, "", append([]string{"secrets", "init", "--yes"}, sp...)...)
	if r.code != 0 {
		t.Fatalf("init --yes after removing one file: exit %d\n%s", r.code, r.stderr)
	}
	noValueIn(t, r.stdout+r.stderr, orig)
	got := readSecrets(t, dir)
	for n, v := range orig {
		if !bytes.Equal(got[n], v) {
			t.Fatalf("%s: %d bytes after init, not the original %d", n, len(got[n]), len(v))
		}
	}
	if r := runCLI(t, env, "", append([]string{"secrets", "check"}, sp...)...); r.code != 0 {
		t.Fatalf("check after the restore: exit %d\n%s", r.code, r.stderr)
	}
}

// Issue 13 item 14: a rotate interrupted by Ctrl-C still updates the
// keychain mirror of the files it changed, instead of reading its own
// cancelled context as "the keychain could not be checked" (which also
// warned on machines without a keychain). Real Secret Service.
func TestMirrorAfterInterruptedRotate(t *testing.T) {
	needKeychain(t)
	env, home := fixtureEnv(t)
	purgeMirrors(t, env["CDB_SETUP_STATE_DIR"])
	dir := filepath.Join(home, "s")
	sp := []string{"--secrets-path", dir}
	if r := runCLI(t, env, "", append([]string{"secrets", "init", "--no-input"}, sp...)...); r.code != 0 {
		t.Fatalf("init: exit %d\n%s", r.code, r.stderr)
	}
	if r := runCLI(t, env, "", append([]string{"keychain", "push"}, sp...)...); r.code != 0 {
		t.Fatalf("push: exit %d\n%s", r.code, r.stderr)
	}
	// What the rotation wrote before the interruption.
	if err := os.WriteFile(filepath.Join(dir, "REDIS_PASSWORD"), []byte("Rotated0Value0Of0Thirty0Two0Byte"), 0o644); err != nil {
		t.Fatal(err)
	}
	var errOut bytes.Buffer
	f := &Factory{IO: &IOStreams{In: strings.NewReader(""), Out: io.Discard, ErrOut: &errOut}, Global: &GlobalOptions{SecretsPath: dir}, Env: env, Context: context.Background()}
	sc, err := loadSecrets(f, SelectionFlags{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // Ctrl-C arrived during the rotation
	f.Context = ctx
	errOut.Reset()
	mirrorAfterRotate(f, sc, []string{"REDIS_PASSWORD"})
	if out := errOut.String(); !strings.Contains(out, "keychain mirror updated: REDIS_PASSWORD") || strings.Contains(out, "could not be checked") || strings.Contains(out, "NOT updated") {
		t.Fatalf("after an interrupted rotate:\n%s", out)
	}
	st, err := secretsMirror(sc).Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range st.Secrets {
		if e.Name == "REDIS_PASSWORD" && e.State != secrets.KeychainInSync {
			t.Fatalf("REDIS_PASSWORD in the keychain: %s, want in sync with the rotated file", e.State)
		}
	}
}
