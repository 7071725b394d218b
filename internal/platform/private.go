package platform

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
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
	// NotEnforced: the permissions were set, but reading them back shows
	// this system did not keep them (ErrNotEnforced); Detail says so.
	NotEnforced bool
	// CreatedParents are the parent folders that did not exist and were
	// created with it, deepest first (Documents\.secrets for the default
	// folder), so that uninstall can remove them again when left empty.
	CreatedParents []string
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
		st.CreatedParents = missingParents(path)
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
	if errors.Is(err, ErrNotEnforced) {
		st.NotEnforced = true
		st.Detail = err.Error()
		return st, nil
	}
	if err != nil {
		return st, err
	}
	st.Changed = changed && !st.Created
	st.Detail = detail
	return st, nil
}

// CheckPrivateDir reports, without changing anything, whether path is a
// private folder of the current user. It returns nil when all is well, and
// an error wrapping ErrNotEnforced when the folder is not private because
// this system keeps no such permissions (no `secrets fix` can help).
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

// SameACL compares two DACLs in SDDL form as data: the same protection
// flags and the same ACEs in the same order. Windows may print an SDDL with
// other flags around the DACL (auto-inherited "AI"), which are no access
// rule; the ACEs and the protected flag are what keep other users out.
func SameACL(got, want string) bool {
	return normalizeSDDL(got) == normalizeSDDL(want)
}

func normalizeSDDL(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.Index(s, "D:"); i >= 0 {
		s = s[i+2:]
	}
	// Keep only the DACL part (an SACL "S:" may follow).
	if i := strings.Index(s, "S:"); i >= 0 {
		s = s[:i]
	}
	flags, aces, _ := strings.Cut(s, "(")
	protected := strings.Contains(flags, "P")
	return fmt.Sprintf("P=%v(%s", protected, aces)
}

// missingParents lists path's parent folders that do not exist yet, deepest
// first.
func missingParents(path string) []string {
	var out []string
	for p := filepath.Dir(path); ; p = filepath.Dir(p) {
		if _, err := os.Lstat(p); !errors.Is(err, fs.ErrNotExist) {
			return out
		}
		out = append(out, p)
		if filepath.Dir(p) == p {
			return out
		}
	}
}
