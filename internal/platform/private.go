package platform

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Problems with a private folder that the user must resolve; cdb-setup never
// "fixes" them by following a link or taking over someone else's folder.
var (
	ErrSymlink      = errors.New("is a symbolic link")
	ErrNotDir       = errors.New("is not a folder")
	ErrForeignOwner = errors.New("is owned by another user")
)

// PrivateDirState is what EnsurePrivateDir found and did.
type PrivateDirState struct {
	Path    string
	Created bool // the folder did not exist
	Changed bool // permissions were tightened
	// Detail says in one line what the protection is ("0700, owner alice",
	// "protected DACL: only DESKTOP\alice").
	Detail string
}

// EnsurePrivateDir creates path (and missing parents, with their default
// permissions) and makes the folder itself private to the current user:
// Unix 0700 owned by us; Windows a protected DACL granting only the current
// user (and SYSTEM when includeSystem). A symlinked, foreign-owned or
// non-folder path is refused with an error that says what to do.
func EnsurePrivateDir(path string, includeSystem bool) (PrivateDirState, error) {
	st := PrivateDirState{Path: path}
	fi, err := os.Lstat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return st, fmt.Errorf("create %s: %w", filepath.Dir(path), err)
		}
		if err := os.Mkdir(path, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
			return st, fmt.Errorf("create %s: %w", path, err)
		}
		st.Created = true
	case err != nil:
		return st, fmt.Errorf("secrets folder %s: %w", path, err)
	default:
		if err := checkDirEntry(path, fi); err != nil {
			return st, err
		}
	}
	changed, detail, err := restrictDir(path, includeSystem)
	if err != nil {
		return st, err
	}
	st.Changed = changed && !st.Created
	st.Detail = detail
	return st, nil
}

// CheckPrivateDir reports, without changing anything, whether path is a
// private folder of the current user. It returns nil when all is well.
func CheckPrivateDir(path string, includeSystem bool) error {
	fi, err := os.Lstat(path)
	if err != nil {
		return fmt.Errorf("secrets folder %s: %w", path, err)
	}
	if err := checkDirEntry(path, fi); err != nil {
		return err
	}
	return checkDirPrivate(path, includeSystem)
}

func checkDirEntry(path string, fi fs.FileInfo) error {
	if fi.Mode()&fs.ModeSymlink != 0 {
		target, _ := os.Readlink(path)
		return fmt.Errorf("secrets folder %s %w (to %s): cdb-setup does not follow links for secrets; pass the real folder with --secrets-path %s", path, ErrSymlink, target, target)
	}
	if !fi.IsDir() {
		return fmt.Errorf("secrets folder %s %w: move the file away or pass another --secrets-path", path, ErrNotDir)
	}
	return ownedByMe(path, fi)
}
