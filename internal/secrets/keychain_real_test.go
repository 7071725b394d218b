package secrets

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/claire-de-binare/cdb-setup/internal/platform"
	"github.com/claire-de-binare/cdb-setup/internal/step"
	"github.com/claire-de-binare/cdb-setup/internal/testenv"
)

// These tests use the machine's real keychain: on Linux the Secret Service
// of the D-Bus session scripts/test.sh starts (gnome-keyring under
// dbus-run-session), on Windows (Wine) the Credential Manager. Every test
// uses its own temp folder, hence its own service, and purges it afterwards.

// kcRealKeychain returns the OS keychain, or skips (fails under
// CDB_SETUP_REQUIRE_ALL=1) when this machine has none.
func kcRealKeychain(t testing.TB) *Keychain {
	t.Helper()
	testenv.NeedSecretService(t)
	_, err := (&Keychain{}).Get(context.Background(), "cdb-setup:test:probe", "/probe")
	testenv.Need(t, IsKeychainKind(err, KeychainNotFound), fmt.Sprintf("a usable OS keychain (probe: %v)", err))
	return &Keychain{}
}

// kcCDBNames are the 10 secret files of the CDB stack (manifest.Default).
var kcCDBNames = []string{
	"REDIS_PASSWORD", "POSTGRES_PASSWORD", "GRAFANA_PASSWORD", "POSTGRES_PASSWORD_DSN",
	"SMTP_USER", "SMTP_PASSWORD", "SMTP_FROM", "ALERT_EMAIL_TO",
	"MEXC_API_KEY.txt", "MEXC_API_SECRET.txt",
}

// kcPassword is a 32-char alphanumeric password like `secrets init` makes.
func kcPassword(t testing.TB) []byte {
	const alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	for i := range b {
		b[i] = alnum[int(b[i])%len(alnum)]
	}
	return b
}

// kcCDBValues are realistic values: three passwords, the DSN, empty optional
// secrets, and one value with NUL, CR and a trailing newline.
func kcCDBValues(t testing.TB) map[string][]byte {
	pg := kcPassword(t)
	return map[string][]byte{
		"REDIS_PASSWORD":        kcPassword(t),
		"POSTGRES_PASSWORD":     pg,
		"GRAFANA_PASSWORD":      kcPassword(t),
		"POSTGRES_PASSWORD_DSN": []byte("postgresql://claire_user:" + string(pg) + "@cdb_postgres:5432/claire_de_binare?sslmode=disable"),
		"SMTP_USER":             {},
		"SMTP_PASSWORD":         {},
		"SMTP_FROM":             {},
		"ALERT_EMAIL_TO":        {},
		"MEXC_API_KEY.txt":      {},
		"MEXC_API_SECRET.txt":   append(kcPassword(t), 0, '\r', '\n'),
	}
}

func kcWriteFiles(t testing.TB, dir string, values map[string][]byte) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	for n, v := range values {
		if err := os.WriteFile(filepath.Join(dir, n), v, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// kcRemoveDir deletes the secrets folder one entry at a time (Wine 8 fails
// os.RemoveAll of a non-empty folder).
func kcRemoveDir(t testing.TB, dir string) {
	t.Helper()
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if err := os.Remove(filepath.Join(dir, e.Name())); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Remove(dir); err != nil {
		t.Fatal(err)
	}
}

func kcMirror(t testing.TB, k *Keychain, dir string, names []string) *KeychainMirror {
	t.Helper()
	m := &KeychainMirror{Keychain: k, Project: "cdbtest", Dir: dir, Service: KeychainService("cdbtest", dir), Names: names}
	t.Cleanup(func() {
		_ = (&Keychain{}).Purge(context.Background(), platform.Record{Kind: KeychainRecordKind, Target: m.Service,
			Data: map[string]string{"dir": dir, "names": strings.Join(names, "\n")}})
	})
	return m
}

// kcRun runs steps like the CLI does (KeepGoing) and checks that no secret
// value leaked into what is shown or serialised.
func kcRunSteps(t testing.TB, steps []step.Step, values map[string][]byte) step.Report {
	t.Helper()
	rep, err := step.Run(context.Background(), steps, step.Options{KeepGoing: true})
	if err != nil {
		t.Fatal(err)
	}
	out, _ := json.Marshal(rep)
	var texts []string
	for _, r := range rep.Results {
		texts = append(texts, r.Detail, r.Fix)
	}
	all := string(out) + strings.Join(texts, "\n")
	for n, v := range values {
		if len(v) >= 8 && strings.Contains(all, string(v)) {
			t.Fatalf("the value of %s appears in the step output", n)
		}
	}
	return rep
}

func kcStatuses(rep step.Report) map[string]step.Status {
	out := map[string]step.Status{}
	for _, r := range rep.Results {
		out[r.Step] = r.Status
	}
	return out
}

func kcAssertFiles(t testing.TB, dir string, values map[string][]byte) {
	t.Helper()
	for n, v := range values {
		got, err := os.ReadFile(filepath.Join(dir, n))
		if err != nil {
			t.Fatalf("%s: %v", n, err)
		}
		if !bytes.Equal(got, v) {
			// Sizes only: never print a secret.
			t.Fatalf("%s: restored %d bytes differ from the original %d bytes", n, len(got), len(v))
		}
	}
}

func TestKeychainRoundTrip(t *testing.T) {
	k := kcRealKeychain(t)
	dir := filepath.Join(testenv.TempDir(t), "secrets")
	values := kcCDBValues(t)
	kcWriteFiles(t, dir, values)
	m := kcMirror(t, k, dir, kcCDBNames)
	m.StateDir = testenv.TempDir(t)

	st, err := m.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if st.Mirrored || st.Secrets[0].State != KeychainOnlyInFile {
		t.Fatalf("before push: mirrored=%v, %s is %s", st.Mirrored, st.Secrets[0].Name, st.Secrets[0].State)
	}

	rep := kcRunSteps(t, KeychainPushSteps(m), values)
	s := kcStatuses(rep)
	for _, n := range kcCDBNames {
		if s["keychain.push."+n] != step.StatusChanged {
			t.Fatalf("push %s: %s (%+v)", n, s["keychain.push."+n], rep.Results)
		}
	}
	if s["keychain.index"] != step.StatusChanged {
		t.Fatalf("index: %s", s["keychain.index"])
	}

	// Re-running is safe: everything is already done.
	rep = kcRunSteps(t, KeychainPushSteps(m), values)
	for id, st := range kcStatuses(rep) {
		if st != step.StatusDone {
			t.Fatalf("second push: %s is %s", id, st)
		}
	}

	// The mirror is recorded for uninstall --purge.
	state, err := platform.LoadState(m.StateDir)
	if err != nil {
		t.Fatal(err)
	}
	if recs := state.Find(KeychainRecordKind); len(recs) != 1 || recs[0].Target != m.Service || recs[0].Data["dir"] != dir {
		t.Fatalf("state records: %+v", recs)
	}

	st, err = m.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range st.Secrets {
		if e.State != KeychainInSync {
			t.Fatalf("after push: %s is %s", e.Name, e.State)
		}
	}

	if runtime.GOOS == "linux" {
		kcSecretToolReads(t, m, values)
	}

	// The folder is wiped: pull restores the exact bytes.
	kcRemoveDir(t, dir)
	st, err = m.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range st.Secrets {
		if e.State != KeychainOnlyInKeychain {
			t.Fatalf("after wipe: %s is %s", e.Name, e.State)
		}
	}
	restorable, err := m.Restorable(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	// The empty optional secrets are not worth offering; the rest are.
	if len(restorable) != 5 {
		t.Fatalf("Restorable = %v, want the 5 non-empty secrets", restorable)
	}
	rep = kcRunSteps(t, KeychainPullSteps(m, false), values)
	for _, n := range kcCDBNames {
		if kcStatuses(rep)["keychain.pull."+n] != step.StatusChanged {
			t.Fatalf("pull %s: %+v", n, rep.Results)
		}
	}
	kcAssertFiles(t, dir, values)
	if runtime.GOOS != "windows" {
		fi, err := os.Stat(dir)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o700 {
			t.Fatalf("restored folder mode %v, want 0700", fi.Mode().Perm())
		}
		// Restored files get the mode `secrets init` uses (DefaultFileMode).
		want, _ := DefaultFileMode(platform.Facts{OS: runtime.GOOS})
		for _, n := range kcCDBNames {
			fi, err := os.Stat(filepath.Join(dir, n))
			if err != nil {
				t.Fatal(err)
			}
			if fi.Mode().Perm() != want {
				t.Fatalf("restored %s: mode %v, want %v", n, fi.Mode().Perm(), want)
			}
		}
	}
	// The value that breaks the byte rules is restored exactly and flagged.
	for _, r := range rep.Results {
		if r.Step == "keychain.pull.MEXC_API_SECRET.txt" && r.Fields["byte_rules"] == nil {
			t.Fatalf("a value breaking the byte rules is not flagged: %s", r.Detail)
		}
	}
	// And pulling again changes nothing.
	rep = kcRunSteps(t, KeychainPullSteps(m, false), values)
	for id, st := range kcStatuses(rep) {
		if st != step.StatusDone {
			t.Fatalf("second pull: %s is %s", id, st)
		}
	}
}

// kcSecretToolReads checks with libsecret's own client that what we stored
// is there: secret-tool prints the stored string, compared in-process.
func kcSecretToolReads(t *testing.T, m *KeychainMirror, values map[string][]byte) {
	t.Helper()
	tool := testenv.NeedCommand(t, "secret-tool")
	for _, n := range []string{"POSTGRES_PASSWORD", "SMTP_USER", "MEXC_API_SECRET.txt"} {
		out, err := exec.Command(tool, "lookup", "service", m.Service, "username", n).Output()
		if err != nil {
			t.Fatalf("secret-tool lookup %s: %v", n, err)
		}
		if strings.TrimSuffix(string(out), "\n") != KeychainEncode(values[n]) {
			t.Fatalf("secret-tool read a different value for %s (%d bytes)", n, len(out))
		}
	}
}

func TestKeychainTwoNamespaces(t *testing.T) {
	k := kcRealKeychain(t)
	base := testenv.TempDir(t)
	dirA, dirB := filepath.Join(base, "a"), filepath.Join(base, "b")
	va, vb := kcCDBValues(t), kcCDBValues(t)
	kcWriteFiles(t, dirA, va)
	kcWriteFiles(t, dirB, vb)
	ma, mb := kcMirror(t, k, dirA, kcCDBNames), kcMirror(t, k, dirB, kcCDBNames)
	if ma.Service == mb.Service {
		t.Fatal("two folders, one service")
	}
	kcRunSteps(t, KeychainPushSteps(ma), va)
	kcRunSteps(t, KeychainPushSteps(mb), vb)
	kcRemoveDir(t, dirA)
	kcRemoveDir(t, dirB)
	kcRunSteps(t, KeychainPullSteps(ma, false), va)
	kcRunSteps(t, KeychainPullSteps(mb, false), vb)
	kcAssertFiles(t, dirA, va)
	kcAssertFiles(t, dirB, vb)

	// Purging one mirror leaves the other intact.
	if err := k.Purge(context.Background(), platform.Record{Kind: KeychainRecordKind, Target: ma.Service, Data: map[string]string{"dir": dirA}}); err != nil {
		t.Fatal(err)
	}
	if st, err := ma.Status(context.Background()); err != nil || st.Mirrored {
		t.Fatalf("after purge A: mirrored=%v err=%v", st.Mirrored, err)
	}
	if _, err := k.Get(context.Background(), ma.Service, "REDIS_PASSWORD"); !IsKeychainKind(err, KeychainNotFound) {
		t.Fatalf("after purge A, its entry: %v", err)
	}
	if st, err := mb.Status(context.Background()); err != nil || !st.Mirrored {
		t.Fatalf("after purge A, B: mirrored=%v err=%v", st.Mirrored, err)
	}
	if err := k.Purge(context.Background(), platform.Record{Kind: "rc-block", Target: "x"}); err == nil {
		t.Fatal("Purge accepted a record that is not a keychain mirror")
	}
}

func TestKeychainPullNeverOverwritesWithoutForce(t *testing.T) {
	k := kcRealKeychain(t)
	dir := filepath.Join(testenv.TempDir(t), "secrets")
	values := kcCDBValues(t)
	kcWriteFiles(t, dir, values)
	m := kcMirror(t, k, dir, kcCDBNames)
	kcRunSteps(t, KeychainPushSteps(m), values)

	other := kcPassword(t)
	if err := os.WriteFile(filepath.Join(dir, "POSTGRES_PASSWORD"), other, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "REDIS_PASSWORD"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	st, _ := m.Status(context.Background())
	states := map[string]KeychainEntryState{}
	for _, e := range st.Secrets {
		states[e.Name] = e.State
	}
	if states["POSTGRES_PASSWORD"] != KeychainDiffers || states["REDIS_PASSWORD"] != KeychainDiffers {
		t.Fatalf("status: %v", states)
	}

	rep := kcRunSteps(t, KeychainPullSteps(m, false), values)
	s := kcStatuses(rep)
	if s["keychain.pull.POSTGRES_PASSWORD"] != step.StatusSkipped {
		t.Fatalf("differing file without --force: %s", s["keychain.pull.POSTGRES_PASSWORD"])
	}
	if s["keychain.pull.REDIS_PASSWORD"] != step.StatusChanged {
		t.Fatalf("empty file: %s", s["keychain.pull.REDIS_PASSWORD"])
	}
	if got, _ := os.ReadFile(filepath.Join(dir, "POSTGRES_PASSWORD")); !bytes.Equal(got, other) {
		t.Fatal("a differing non-empty file was overwritten without --force")
	}

	rep = kcRunSteps(t, KeychainPullSteps(m, true), values)
	var backup string
	for _, r := range rep.Results {
		if r.Step == "keychain.pull.POSTGRES_PASSWORD" {
			backup, _ = r.Fields["backup"].(string)
		}
	}
	if backup == "" {
		t.Fatalf("--force did not back up the file: %+v", rep.Results)
	}
	// The same backup naming as every other writer: .backup/<NAME>.<UTC>.
	if filepath.Dir(backup) != filepath.Join(dir, BackupDirName) || !strings.HasPrefix(filepath.Base(backup), "POSTGRES_PASSWORD.") {
		t.Fatalf("backup at %s, want %s/POSTGRES_PASSWORD.<UTC>", backup, filepath.Join(dir, BackupDirName))
	}
	if bs, _ := Backups(dir, "POSTGRES_PASSWORD"); len(bs) != 1 || bs[0] != backup {
		t.Fatalf("Backups = %v, want [%s]", bs, backup)
	}
	if got, _ := os.ReadFile(backup); !bytes.Equal(got, other) {
		t.Fatal("the backup does not hold the replaced value")
	}
	if runtime.GOOS != "windows" {
		if fi, _ := os.Stat(backup); fi.Mode().Perm() != 0o600 {
			t.Fatalf("backup mode %v, want 0600", fi.Mode().Perm())
		}
	}
	kcAssertFiles(t, dir, map[string][]byte{"POSTGRES_PASSWORD": values["POSTGRES_PASSWORD"]})
}

func TestKeychainTooBigIsReportedAndTheRestMirror(t *testing.T) {
	k := kcRealKeychain(t)
	dir := filepath.Join(testenv.TempDir(t), "secrets")
	limit, _ := KeychainLimit(runtime.GOOS, KeychainService("cdbtest", dir), "TLS_KEY")
	values := map[string][]byte{"REDIS_PASSWORD": kcPassword(t), "TLS_KEY": bytes.Repeat([]byte("k"), limit)}
	kcWriteFiles(t, dir, values)
	m := kcMirror(t, k, dir, []string{"TLS_KEY", "REDIS_PASSWORD"})
	rep := kcRunSteps(t, KeychainPushSteps(m), values)
	var tooBig step.Result
	for _, r := range rep.Results {
		if r.Step == "keychain.push.TLS_KEY" {
			tooBig = r
		}
	}
	// Where the keychain takes more than any secret file may hold (the
	// Secret Service), the 64 KiB read cap refuses the file first.
	capped := limit > MaxSecretBytes && IsTooLarge(tooBig.Err) && strings.Contains(tooBig.Detail, "TLS_KEY")
	if tooBig.Status != step.StatusFailed || !capped && (!IsKeychainKind(tooBig.Err, KeychainTooBig) || !strings.Contains(tooBig.Detail, "not mirrored")) {
		t.Fatalf("too-big secret: %+v", tooBig)
	}
	s := kcStatuses(rep)
	if s["keychain.push.REDIS_PASSWORD"] != step.StatusChanged || s["keychain.index"] != step.StatusChanged {
		t.Fatalf("the rest did not mirror: %v", s)
	}
	st, _ := m.Status(context.Background())
	for _, e := range st.Secrets {
		want := map[string]KeychainEntryState{"TLS_KEY": KeychainOnlyInFile, "REDIS_PASSWORD": KeychainInSync}[e.Name]
		if capped && e.Name == "TLS_KEY" {
			want = KeychainFileProblem // the file itself is refused by the read cap
		}
		if e.State != want {
			t.Fatalf("%s is %s, want %s", e.Name, e.State, want)
		}
	}
	if runtime.GOOS == "windows" {
		// The real Credential Manager path refuses it too (go-keyring's own
		// check before CredWrite), classified the same way.
		err := k.Set(context.Background(), m.Service, "TLS_KEY", strings.Repeat("k", 2561))
		if !IsKeychainKind(err, KeychainTooBig) {
			t.Fatalf("Credential Manager with 2561 bytes: %v", err)
		}
	}
}

func TestKeychainMirrorUpdate(t *testing.T) {
	k := kcRealKeychain(t)
	dir := filepath.Join(testenv.TempDir(t), "secrets")
	values := kcCDBValues(t)
	kcWriteFiles(t, dir, values)
	m := kcMirror(t, k, dir, kcCDBNames)

	// No mirror yet: rotate's hook does nothing.
	if updated, err := m.MirrorUpdate(context.Background(), "REDIS_PASSWORD"); err != nil || updated {
		t.Fatalf("without a mirror: updated=%v err=%v", updated, err)
	}
	kcRunSteps(t, KeychainPushSteps(m), values)
	values["REDIS_PASSWORD"] = kcPassword(t) // what rotate writes
	kcWriteFiles(t, dir, map[string][]byte{"REDIS_PASSWORD": values["REDIS_PASSWORD"]})
	if updated, err := m.MirrorUpdate(context.Background(), "REDIS_PASSWORD"); err != nil || !updated {
		t.Fatalf("with a mirror: updated=%v err=%v", updated, err)
	}
	st, _ := m.Status(context.Background())
	for _, e := range st.Secrets {
		if e.State != KeychainInSync {
			t.Fatalf("after rotate: %s is %s", e.Name, e.State)
		}
	}
	got, err := m.fetch(context.Background(), "REDIS_PASSWORD")
	if err != nil || !bytes.Equal(got, values["REDIS_PASSWORD"]) {
		t.Fatalf("the keychain copy was not updated (err %v)", err)
	}
}

// A secret the compose files no longer list but the index has (renamed or
// dropped) still shows in status and is restored by pull: nothing mirrored
// is lost.
func TestKeychainIndexOnlyNames(t *testing.T) {
	k := kcRealKeychain(t)
	dir := filepath.Join(testenv.TempDir(t), "secrets")
	values := map[string][]byte{"REDIS_PASSWORD": kcPassword(t), "OLD_REDIS_PASSWORD": kcPassword(t)}
	kcWriteFiles(t, dir, values)
	kcRunSteps(t, KeychainPushSteps(kcMirror(t, k, dir, []string{"REDIS_PASSWORD", "OLD_REDIS_PASSWORD"})), values)

	m := kcMirror(t, k, dir, []string{"REDIS_PASSWORD"})
	kcRemoveDir(t, dir)
	st, err := m.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Secrets) != 2 || st.Secrets[1].Name != "OLD_REDIS_PASSWORD" || st.Secrets[1].State != KeychainOnlyInKeychain {
		t.Fatalf("status: %+v", st.Secrets)
	}
	rep := kcRunSteps(t, KeychainPullSteps(m, false), values)
	if s := kcStatuses(rep)["keychain.pull.others"]; s != step.StatusChanged {
		t.Fatalf("others: %s %+v", s, rep.Results)
	}
	kcAssertFiles(t, dir, values)
}
