package volpass

import (
	"github.com/claire-de-binare/cdb-setup/internal/testenv"

	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func TestCompare(t *testing.T) {
	dir := testenv.TempDir(t)
	b, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := b.Compare("eng1", "cdb_postgres_data", []byte("old")); v != Unknown {
		t.Fatalf("no record: %s", v)
	}
	if err := b.Record(Entry{EngineID: "eng1", Volume: "cdb_postgres_data", Secret: "POSTGRES_PASSWORD", How: "initialised by up"}, []byte("old")); err != nil {
		t.Fatal(err)
	}
	// A fresh book (another run) reads the same state and key.
	b2, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		eng, vol, pw string
		want         Verdict
	}{
		{"eng1", "cdb_postgres_data", "old", Match},
		{"eng1", "cdb_postgres_data", "new", Mismatch},
		{"eng1", "cdb_postgres_data", "old\r", Mismatch},
		{"eng2", "cdb_postgres_data", "old", Unknown},
		{"eng1", "cdb_grafana_data", "old", Unknown},
	} {
		if v, e := b2.Compare(c.eng, c.vol, []byte(c.pw)); v != c.want {
			t.Errorf("Compare(%s, %s, %q) = %s (%+v), want %s", c.eng, c.vol, c.pw, v, e, c.want)
		}
	}
	// The state holds no password and the key is private.
	st, _ := os.ReadFile(filepath.Join(dir, "state.json"))
	if strings.Contains(string(st), `"old"`) || !strings.Contains(string(st), Kind) {
		t.Fatalf("state: %s", st)
	}
	// On Windows file modes mean nothing: the key lives in the user's own
	// %LOCALAPPDATA%, like the state file.
	if fi, _ := os.Stat(filepath.Join(dir, KeyFileName)); runtime.GOOS != "windows" && fi.Mode().Perm() != 0o600 {
		t.Errorf("key mode %v", fi.Mode().Perm())
	}
	// Re-keyed: the new password matches, the old one no longer does.
	if err := b2.Record(Entry{EngineID: "eng1", Volume: "cdb_postgres_data", Secret: "POSTGRES_PASSWORD", How: "re-keyed"}, []byte("new")); err != nil {
		t.Fatal(err)
	}
	if v, e := b2.Compare("eng1", "cdb_postgres_data", []byte("new")); v != Match || e.How != "re-keyed" {
		t.Errorf("after re-key: %s %+v", v, e)
	}
	if err := b2.Forget("eng1", "cdb_postgres_data"); err != nil {
		t.Fatal(err)
	}
	if v, _ := b2.Compare("eng1", "cdb_postgres_data", []byte("new")); v != Unknown {
		t.Errorf("after forget: %s", v)
	}
}

// A lost key makes every record unknown, never a mismatch (a mismatch stops
// `up`).
func TestLostKeyIsUnknown(t *testing.T) {
	dir := testenv.TempDir(t)
	b, _ := Open(dir)
	if err := b.Record(Entry{EngineID: "e", Volume: "v"}, []byte("pw")); err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(dir, KeyFileName))
	b2, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := b2.Compare("e", "v", []byte("other")); v != Unknown {
		t.Errorf("lost key: %s", v)
	}
}

func TestDamagedKey(t *testing.T) {
	dir := testenv.TempDir(t)
	os.WriteFile(filepath.Join(dir, KeyFileName), []byte("short"), 0o600)
	if _, err := Open(dir); err == nil || !strings.Contains(err.Error(), "delete it") {
		t.Fatalf("damaged key: %v", err)
	}
}
