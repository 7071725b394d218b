//go:build !windows

package platform

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/claire-de-binare/cdb-setup/internal/testenv"
)

func TestEnsurePrivateDirCreatesAndTightens(t *testing.T) {
	root := t.TempDir()
	p := filepath.Join(root, "Documents", ".secrets", ".cdb")
	st, err := EnsurePrivateDir(p, false)
	if err != nil {
		t.Fatal(err)
	}
	if !st.Created {
		t.Error("Created = false for a new folder")
	}
	if fi, _ := os.Stat(p); fi.Mode().Perm() != 0o700 {
		t.Errorf("mode = %04o, want 0700", fi.Mode().Perm())
	}
	if err := CheckPrivateDir(p, false); err != nil {
		t.Errorf("CheckPrivateDir after Ensure: %v", err)
	}
	// A folder someone opened up is tightened, and reported as changed.
	if err := os.Chmod(p, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := CheckPrivateDir(p, false); err == nil {
		t.Error("CheckPrivateDir accepted 0755")
	}
	st, err = EnsurePrivateDir(p, false)
	if err != nil || !st.Changed || st.Created {
		t.Errorf("second Ensure: %+v %v", st, err)
	}
	st, err = EnsurePrivateDir(p, false)
	if err != nil || st.Changed || st.Created {
		t.Errorf("third Ensure must change nothing: %+v %v", st, err)
	}
}

func TestEnsurePrivateDirRefuses(t *testing.T) {
	root := t.TempDir()
	real := filepath.Join(root, "real")
	if err := os.Mkdir(real, 0o700); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(root, "link")
	if err := os.Symlink(real, link); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(root, "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		path string
		want error
	}{{link, ErrSymlink}, {file, ErrNotDir}} {
		_, err := EnsurePrivateDir(c.path, false)
		if !errors.Is(err, c.want) {
			t.Errorf("EnsurePrivateDir(%s) = %v, want %v", c.path, err, c.want)
		}
	}
	if fi, _ := os.Stat(real); fi.Mode().Perm() != 0o700 {
		t.Error("the link target was touched")
	}
}

func TestEnsurePrivateDirRefusesForeignOwner(t *testing.T) {
	testenv.Need(t, os.Geteuid() == 0, "root, to create a folder owned by another user")
	p := filepath.Join(t.TempDir(), "theirs")
	if err := os.Mkdir(p, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(p, 4242, 4242); err != nil {
		t.Fatal(err)
	}
	_, err := EnsurePrivateDir(p, false)
	if !errors.Is(err, ErrForeignOwner) {
		t.Fatalf("err = %v, want ErrForeignOwner", err)
	}
	if fi, _ := os.Stat(p); fi.Mode().Perm() != 0o755 {
		t.Error("a foreign folder's mode was changed")
	}
}
