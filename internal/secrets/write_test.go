package secrets

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/claire-de-binare/cdb-setup/internal/testenv"
)

func privateDir(t *testing.T) string {
	t.Helper()
	d := filepath.Join(testenv.TempDir(t), "s")
	if err := os.Mkdir(d, 0o700); err != nil {
		t.Fatal(err)
	}
	return d
}

func mustRead(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func wantMode(t *testing.T, p string, mode os.FileMode) {
	t.Helper()
	if runtime.GOOS == "windows" {
		return // modes mean nothing there; the DACL is tested as data in platform
	}
	fi, err := os.Lstat(p)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != mode {
		t.Errorf("%s: mode %04o, want %04o", filepath.Base(p), fi.Mode().Perm(), mode)
	}
}

func TestWriteSecretLifecycle(t *testing.T) {
	dir := privateDir(t)
	v1 := []byte("abcdefghijklmnopqrstuvwxyz012345")
	v2 := []byte("ZYXWVUTSRQPONMLKJIHGFEDCBA987654")
	for _, mode := range []os.FileMode{0o600, 0o644} {
		name := "REDIS_PASSWORD" + map[os.FileMode]string{0o600: "", 0o644: "_B"}[mode]
		out, err := WriteSecret(dir, name, v1, mode, false)
		if err != nil || out.Status != WriteCreated {
			t.Fatalf("first write: %v %v", out.Status, err)
		}
		p := filepath.Join(dir, name)
		if !bytes.Equal(mustRead(t, p), v1) {
			t.Fatalf("bytes differ after write (len %d)", len(mustRead(t, p)))
		}
		wantMode(t, p, mode)

		out, err = WriteSecret(dir, name, v1, mode, false)
		if err != nil || out.Status != WriteUnchanged || out.Backup != "" {
			t.Fatalf("second write: %v %v", out.Status, err)
		}

		_, err = WriteSecret(dir, name, v2, mode, false)
		if !errors.Is(err, ErrExists) {
			t.Fatalf("overwrite without force: err = %v, want ErrExists", err)
		}
		if !bytes.Equal(mustRead(t, p), v1) {
			t.Fatal("refused overwrite changed the file")
		}

		out, err = WriteSecret(dir, name, v2, mode, true)
		if err != nil || out.Status != WriteReplaced || out.Backup == "" {
			t.Fatalf("forced write: %+v %v", out.Status, err)
		}
		if !bytes.Equal(mustRead(t, p), v2) || !bytes.Equal(mustRead(t, out.Backup), v1) {
			t.Fatal("forced write: new file or backup holds the wrong bytes")
		}
		wantMode(t, out.Backup, 0o600)
		wantMode(t, filepath.Join(dir, BackupDirName), 0o700)
	}
	// No temp files are left behind.
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if e.Name() != BackupDirName && e.Name()[0] == '.' {
			t.Errorf("leftover %s", e.Name())
		}
	}
}

func TestWriteSecretModeRepaired(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Unix modes; Windows uses a DACL (tested as data in internal/platform)")
	}
	dir := privateDir(t)
	p := filepath.Join(dir, "GRAFANA_PASSWORD")
	v := []byte("abcdefghijklmnopqrstuvwxyz012345")
	if err := os.WriteFile(p, v, 0o666); err != nil {
		t.Fatal(err)
	}
	os.Chmod(p, 0o666)
	out, err := WriteSecret(dir, "GRAFANA_PASSWORD", v, 0o600, false)
	if err != nil || out.Status != WriteUnchanged || !out.ModeChanged {
		t.Fatalf("got %+v %v", out, err)
	}
	wantMode(t, p, 0o600)
}

func TestWriteSecretRefuses(t *testing.T) {
	dir := privateDir(t)
	v := []byte("abcdefghijklmnopqrstuvwxyz012345")
	for _, bad := range [][]byte{[]byte("pw\n"), []byte("pw\r"), []byte("\xef\xbb\xbfpw"), []byte(" pw"), []byte("p\x00w"), []byte("\xff\xfe")} {
		if _, err := WriteSecret(dir, "X", bad, 0o600, true); err == nil {
			t.Errorf("value of %d bytes with a bad byte was written", len(bad))
		}
	}
	for _, name := range []string{"", "..", "../x", "a/b", `a\b`, ".hidden"} {
		if _, err := WriteSecret(dir, name, v, 0o600, true); err == nil {
			t.Errorf("name %q accepted", name)
		}
	}
	// A folder where the file should be (old Docker Desktop) is not replaced.
	if err := os.Mkdir(filepath.Join(dir, "SMTP_USER"), 0o700); err != nil {
		t.Fatal(err)
	}
	if _, err := WriteSecret(dir, "SMTP_USER", v, 0o600, true); !errors.Is(err, ErrNotRegular) {
		t.Errorf("folder: err = %v, want ErrNotRegular", err)
	}
	if runtime.GOOS != "windows" {
		target := filepath.Join(testenv.TempDir(t), "elsewhere")
		os.WriteFile(target, v, 0o600)
		if err := os.Symlink(target, filepath.Join(dir, "LINK")); err != nil {
			t.Fatal(err)
		}
		if _, err := WriteSecret(dir, "LINK", []byte("other-value-123"), 0o600, true); !errors.Is(err, ErrNotRegular) {
			t.Errorf("symlink: err = %v, want ErrNotRegular", err)
		}
		if !bytes.Equal(mustRead(t, target), v) {
			t.Error("the symlink's target was changed")
		}
	}
}

func TestWriteSecretUnwritableFolderKeepsOld(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Unix modes; Windows uses a DACL (tested as data in internal/platform)")
	}
	v := []byte("abcdefghijklmnopqrstuvwxyz012345")
	if testenv.Unprivileged() {
		unwritableFolderKeepsOld(t, os.Getenv("CDB_TEST_FOLDER"), v)
		return
	}
	root := os.Geteuid() == 0
	var dir string
	if root {
		dir = filepath.Join(testenv.SharedTempDir(t), "s")
	} else {
		dir = filepath.Join(testenv.TempDir(t), "s")
	}
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if _, err := WriteSecret(dir, "A", v, 0o600, false); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o500); err != nil {
		t.Fatal(err)
	}
	if root {
		// Root writes anywhere: the folder becomes nobody's and the
		// check runs as nobody.
		uid, gid := testenv.Nobody(t)
		for _, p := range []string{dir, filepath.Join(dir, "A")} {
			if err := os.Chown(p, uid, gid); err != nil {
				t.Fatal(err)
			}
		}
		testenv.RerunUnprivileged(t, "CDB_TEST_FOLDER="+dir)
		return
	}
	defer os.Chmod(dir, 0o700)
	unwritableFolderKeepsOld(t, dir, v)
}

func unwritableFolderKeepsOld(t *testing.T, dir string, v []byte) {
	if _, err := WriteSecret(dir, "B", v, 0o600, false); err == nil {
		t.Fatal("write in a read-only folder succeeded")
	}
	if _, err := WriteSecret(dir, "A", []byte("another-value-0123456789abcdefgh"), 0o600, true); err == nil {
		t.Fatal("replacing a secret in a read-only folder succeeded")
	}
	if !bytes.Equal(mustRead(t, filepath.Join(dir, "A")), v) {
		t.Error("the old value was lost")
	}
}

func TestBackupNothingToLose(t *testing.T) {
	dir := privateDir(t)
	if p, err := Backup(dir, "MISSING"); p != "" || err != nil {
		t.Fatalf("missing: %q %v", p, err)
	}
	os.WriteFile(filepath.Join(dir, "EMPTY"), nil, 0o600)
	if p, err := Backup(dir, "EMPTY"); p != "" || err != nil {
		t.Fatalf("empty: %q %v", p, err)
	}
	os.WriteFile(filepath.Join(dir, "A"), []byte("old-value-1234"), 0o600)
	p1, err1 := Backup(dir, "A")
	p2, err2 := Backup(dir, "A")
	if err1 != nil || err2 != nil || p1 == p2 {
		t.Fatalf("two backups: %v %v, same path %v", err1, err2, p1 == p2)
	}
	list, _ := Backups(dir, "A")
	if len(list) != 2 {
		t.Fatalf("Backups: %d, want 2", len(list))
	}
}
