package platform

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/claire-de-binare/cdb-setup/internal/testenv"
)

func TestWriteFileAtomicReplacesAndLeavesNoTemp(t *testing.T) {
	dir := testenv.TempDir(t)
	p := filepath.Join(dir, "SECRET")
	if err := os.WriteFile(p, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := WriteFileAtomic(p, []byte("new"), 0o644); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(p)
	if string(b) != "new" {
		t.Errorf("content = %q", b)
	}
	if runtime.GOOS != "windows" {
		st, _ := os.Stat(p)
		if st.Mode().Perm() != 0o644 {
			t.Errorf("mode = %04o, want 0644 regardless of umask", st.Mode().Perm())
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("folder holds %d entries, want only the file (no temp left)", len(entries))
	}
}

func TestWriteFileAtomicFailureKeepsOldFile(t *testing.T) {
	dir := testenv.TempDir(t)
	p := filepath.Join(dir, "SECRET")
	if err := os.WriteFile(p, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	// A folder where the file should be renamed to is a failure at the
	// very end: the temp file must go, the old content must stay.
	target := filepath.Join(dir, "sub")
	if err := os.MkdirAll(filepath.Join(target, "x"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := WriteFileAtomic(target, []byte("new"), 0o600); err == nil {
		t.Fatal("no error renaming over a folder")
	}
	b, _ := os.ReadFile(p)
	if string(b) != "old" {
		t.Errorf("old file changed: %q", b)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp-") {
			t.Errorf("temp file left behind: %s", e.Name())
		}
	}
}

func TestStateRoundTrip(t *testing.T) {
	dir := filepath.Join(testenv.TempDir(t), "state")
	s, err := LoadState(dir)
	if err != nil {
		t.Fatal(err)
	}
	s.Put(Record{Step: "env.shell", Kind: "rc-block", Target: "/h/.profile"})
	s.Put(Record{Step: "env.shell", Kind: "rc-block", Target: "/h/.profile", Data: map[string]string{"backup": "/h/.profile.bak"}})
	s.Put(Record{Step: "hook", Kind: "hook", Target: "/r/.git/hooks/pre-commit"})
	if err := s.Save(); err != nil {
		t.Fatal(err)
	}
	s2, err := LoadState(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(s2.Records) != 2 {
		t.Fatalf("records = %d, want 2 (the repeat replaced)", len(s2.Records))
	}
	if got := s2.Find("rc-block"); len(got) != 1 || got[0].Data["backup"] != "/h/.profile.bak" {
		t.Errorf("rc-block record = %+v", got)
	}
	s2.Delete("hook", "hook", "/r/.git/hooks/pre-commit")
	if len(s2.Find("hook")) != 0 {
		t.Error("Delete left the record")
	}
}

func TestStateDamagedFileSaysWhatToDo(t *testing.T) {
	dir := testenv.TempDir(t)
	if err := os.WriteFile(filepath.Join(dir, StateFileName), []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := LoadState(dir)
	if err == nil || !strings.Contains(err.Error(), "damaged") || !strings.Contains(err.Error(), "move it aside") {
		t.Errorf("error = %v", err)
	}
}

func TestStateDir(t *testing.T) {
	h := hostAbs("/h")
	cases := []struct {
		goos string
		env  MapEnvironment
		want string
	}{
		{"linux", MapEnvironment{"HOME": h}, filepath.Join(h, ".local", "state", "cdb-setup")},
		{"linux", MapEnvironment{"HOME": h, "XDG_STATE_HOME": hostAbs("/st")}, filepath.Join(hostAbs("/st"), "cdb-setup")},
		{"linux", MapEnvironment{"HOME": h, "XDG_STATE_HOME": "relative"}, filepath.Join(h, ".local", "state", "cdb-setup")},
		{"darwin", MapEnvironment{"HOME": h, "CDB_SETUP_STATE_DIR": hostAbs("/x")}, hostAbs("/x")},
		{"windows", MapEnvironment{"LOCALAPPDATA": hostAbs("/l")}, filepath.Join(hostAbs("/l"), "cdb-setup")},
	}
	for _, c := range cases {
		got, err := StateDir(c.env, c.goos)
		if err != nil || got != c.want {
			t.Errorf("%s %v: %q %v, want %q", c.goos, c.env, got, err, c.want)
		}
	}
}

func TestLockIsExclusiveAndNamesTheHolder(t *testing.T) {
	p := filepath.Join(testenv.TempDir(t), "lock")
	l, err := TryLock(p, "cdb-setup secrets init")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := TryLock(p, "second"); !errors.Is(err, ErrLocked) {
		t.Fatalf("second TryLock = %v, want ErrLocked", err)
	}
	var holder string
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		l2, err := AcquireLock(ctx, p, "third", func(h string) { holder = h; cancel() })
		if l2 != nil {
			l2.Release()
		}
		done <- err
	}()
	if err := <-done; err == nil || !errors.Is(err, context.Canceled) {
		t.Errorf("AcquireLock while held = %v, want cancelled", err)
	}
	if runtime.GOOS != "windows" && !strings.Contains(holder, "cdb-setup secrets init") {
		t.Errorf("holder = %q, want the first run's description", holder)
	}
	if err := l.Release(); err != nil {
		t.Fatal(err)
	}
	ctx2, cancel2 := context.WithTimeout(context.Background(), time.Minute)
	defer cancel2()
	l3, err := AcquireLock(ctx2, p, "fourth", nil)
	if err != nil {
		t.Fatalf("lock not free after Release: %v", err)
	}
	l3.Release()
}

// Two holders of the state in one run (the wizard and a step that records
// on its own) must not lose each other's records.
func TestStateSaveMergesOtherHolders(t *testing.T) {
	dir := testenv.TempDir(t)
	wizard, _ := LoadState(dir)
	wizard.Put(Record{Step: "old", Kind: "rc-block", Target: "/h/.zshenv"})
	if err := wizard.Save(); err != nil {
		t.Fatal(err)
	}
	step, _ := LoadState(dir)
	step.Put(Record{Step: "secrets.folder", Kind: "secrets-folder", Target: "/s"})
	if err := step.Save(); err != nil {
		t.Fatal(err)
	}
	wizard.Put(Record{Step: "env", Kind: "rc-block", Target: "/h/.profile"})
	wizard.Delete("old", "rc-block", "/h/.zshenv")
	if err := wizard.Save(); err != nil {
		t.Fatal(err)
	}
	final, _ := LoadState(dir)
	if len(final.Find("secrets-folder")) != 1 {
		t.Errorf("the other holder's record was lost: %+v", final.Records)
	}
	if got := final.Find("rc-block"); len(got) != 1 || got[0].Target != "/h/.profile" {
		t.Errorf("rc-block records = %+v, want only the new one (the deleted one must stay deleted)", got)
	}
}
