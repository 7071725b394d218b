package secrets

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/claire-de-binare/cdb-setup/internal/platform"
	"github.com/claire-de-binare/cdb-setup/internal/step"
)

// BackupDirName is the folder inside the secrets folder that keeps every
// value cdb-setup replaced, so that nothing is ever lost.
const BackupDirName = ".backup"

// WriteStatus says what WriteSecret did.
type WriteStatus string

const (
	WriteUnchanged WriteStatus = "unchanged" // the file already held exactly these bytes
	WriteCreated   WriteStatus = "created"   // there was no file, or an empty one
	WriteReplaced  WriteStatus = "replaced"  // a non-empty value was replaced (after a backup)
)

// WriteOutcome is what WriteSecret did. It never holds the value.
type WriteOutcome struct {
	Status WriteStatus
	Path   string
	// Backup is the backup of the old value, when one was replaced.
	Backup string
	// Bytes is the length of the value now in the file.
	Bytes int
	// ModeChanged is true when only the permissions had to be corrected.
	ModeChanged bool
	// NotEnforced: the private permissions were set, and reading them back
	// showed that this system does not keep them (platform.ErrNotEnforced).
	NotEnforced bool
}

// ErrExists is returned when a non-empty secret holds another value and
// force was not given: cdb-setup never silently replaces a secret.
var ErrExists = errors.New("already holds a different value")

// ErrNotRegular is returned when a directory, symlink or device sits where a
// secret file should be.
var ErrNotRegular = errors.New("is not a regular file")

// WriteSecret makes <dir>/<name> hold exactly value with the given mode (on
// Windows: a protected DACL for the current user; mode is ignored).
//
//   - Same bytes already there: nothing is written ("already done"); only the
//     permissions are corrected if they differ.
//   - Missing or empty file: written.
//   - A different non-empty value: refused with ErrExists unless force; with
//     force the old value is first copied to a 0600 backup (Backup).
//
// The write is atomic (platform.WriteFileAtomic): a crash, Ctrl-C or a full
// disk leaves either the old file or the new one. value must obey the byte
// rules (ValidateValue); the caller (keychain pull, from-env, rotate) has
// normalised it. Errors never contain the value.
func WriteSecret(dir, name string, value []byte, mode os.FileMode, force bool) (WriteOutcome, error) {
	if err := ValidateValue(value); err != nil {
		return WriteOutcome{Path: filepath.Join(dir, name), Bytes: len(value)}, fmt.Errorf("%s: refusing to write: %w", name, err)
	}
	return writeSecretBytes(dir, name, value, mode, force)
}

// writeSecretBytes is WriteSecret without the byte rules: keychain pull
// restores exactly the bytes that were mirrored (a volume may hold a
// password with a stray CR), and says so when they break the rules, so that
// `secrets check` can name the problem. Everything else (no silent replace,
// backup first, atomic write, mode) is the same.
func writeSecretBytes(dir, name string, value []byte, mode os.FileMode, force bool) (WriteOutcome, error) {
	out := WriteOutcome{Path: filepath.Join(dir, name), Bytes: len(value)}
	if err := validName(name); err != nil {
		return out, err
	}
	old, exists, err := readSecretFile(out.Path)
	if err != nil {
		return out, err
	}
	if exists && bytes.Equal(old, value) {
		out.Status = WriteUnchanged
		changed, err := ensureMode(out.Path, mode)
		out.ModeChanged = changed
		out.NotEnforced = errors.Is(err, platform.ErrNotEnforced)
		if out.NotEnforced {
			err = nil
		}
		return out, err
	}
	if exists && len(old) > 0 {
		if !force {
			return out, step.WithFix(fmt.Errorf("%s %w (%d bytes); cdb-setup never replaces a secret silently", name, ErrExists, len(old)),
				fmt.Sprintf("keep it, or replace it with a backup of the old value: `cdb-setup secrets rotate %s` (or init --force)", name))
		}
		b, err := Backup(dir, name)
		if err != nil {
			return out, err
		}
		out.Backup = b
		out.Status = WriteReplaced
	} else {
		out.Status = WriteCreated
	}
	if err := platform.WriteFileAtomic(out.Path, value, mode); err != nil {
		return out, explainWriteErr(name, dir, err)
	}
	if runtime.GOOS == "windows" {
		if err := platform.RestrictFile(out.Path, mode, false); errors.Is(err, platform.ErrNotEnforced) {
			out.NotEnforced = true
		} else if err != nil {
			return out, err
		}
	}
	return out, nil
}

// readSecretFile reads a secret without following a symlink. exists is false
// when there is no file at all.
func readSecretFile(path string) (data []byte, exists bool, err error) {
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("%s: %w", path, err)
	}
	if !fi.Mode().IsRegular() {
		return nil, true, step.WithFix(fmt.Errorf("%s %w (%s)", path, ErrNotRegular, kindOf(fi)),
			"move it away and run `cdb-setup secrets fix` (an empty folder there is removed by fix)")
	}
	b, err := ReadSecret(path)
	if IsTooLarge(err) {
		return nil, true, err
	}
	if err != nil {
		return nil, true, fmt.Errorf("read %s: %w", path, err)
	}
	return b, true, nil
}

func kindOf(fi fs.FileInfo) string {
	switch m := fi.Mode(); {
	case m&fs.ModeSymlink != 0:
		return "a symbolic link"
	case m.IsDir():
		return "a folder"
	default:
		return "a special file"
	}
}

// ensureMode corrects a secret file's permissions; it reports whether it
// did. An error wrapping platform.ErrNotEnforced: set, but not kept here.
func ensureMode(path string, mode os.FileMode) (bool, error) {
	fi, err := os.Lstat(path)
	if err != nil {
		return false, err
	}
	if modeMatches(path, fi, mode) {
		return false, nil
	}
	if err := platform.RestrictFile(path, mode, false); err != nil {
		return false, err
	}
	return true, nil
}

// Backup copies the current value of <dir>/<name> to
// <dir>/.backup/<name>.<UTC timestamp> (0600 in a 0700 folder) and returns
// the backup's path. A missing or empty file has nothing to lose: Backup
// returns "" and no error. The backup path is safe to print; its content is
// not.
func Backup(dir, name string) (string, error) {
	if err := validName(name); err != nil {
		return "", err
	}
	old, exists, err := readSecretFile(filepath.Join(dir, name))
	if err != nil || !exists || len(old) == 0 {
		return "", err
	}
	bdir := filepath.Join(dir, BackupDirName)
	if fi, err := os.Lstat(bdir); err == nil && fi.Mode()&fs.ModeSymlink != 0 {
		target, _ := os.Readlink(bdir)
		return "", step.WithFix(fmt.Errorf("the backup folder %s is a symbolic link (to %s): cdb-setup does not write old secret values through a link", bdir, target),
			fmt.Sprintf("move the link away (it is not the secrets folder; --secrets-path stays as it is), then run the command again: mv %q %q", bdir, bdir+".link"))
	}
	if _, err := platform.EnsurePrivateDir(bdir, false); err != nil {
		return "", fmt.Errorf("backup folder: %w", err)
	}
	stamp := time.Now().UTC().Format("20060102T150405.000000000Z")
	// Two backups in the same nanosecond (or a clock going backwards) must
	// not overwrite each other.
	for i := 0; i < 100; i++ {
		p := filepath.Join(bdir, name+"."+stamp)
		if i > 0 {
			p += fmt.Sprintf("-%d", i)
		}
		if _, err := os.Lstat(p); err == nil {
			continue
		}
		if err := platform.WriteFileAtomic(p, old, 0o600); err != nil {
			return "", explainWriteErr(name+" backup", bdir, err)
		}
		if runtime.GOOS == "windows" {
			if err := platform.RestrictFile(p, 0o600, false); err != nil && !errors.Is(err, platform.ErrNotEnforced) {
				return "", err
			}
		}
		return p, nil
	}
	return "", fmt.Errorf("backup of %s: too many backups with the same timestamp in %s", name, bdir)
}

// explainWriteErr adds the fix to the usual write failures.
func explainWriteErr(name, dir string, err error) error {
	switch {
	case errors.Is(err, fs.ErrPermission):
		return step.WithFix(fmt.Errorf("%s: cannot write in %s: %w", name, dir, err),
			"make the folder writable for your user, or pass another --secrets-path")
	case isNoSpace(err):
		return step.WithFix(fmt.Errorf("%s: the disk is full (the old file is intact): %w", name, err),
			"free some space, then run the command again")
	}
	return fmt.Errorf("%s: %w", name, err)
}

// validName refuses names that would leave the folder or hide a file.
func validName(name string) error {
	if name == "" || name == "." || name == ".." || strings.ContainsAny(name, `/\:`) || strings.HasPrefix(name, ".") {
		return fmt.Errorf("secret name %q is not a plain file name", name)
	}
	return nil
}

// isNoSpace recognises "disk full" on Unix (ENOSPC) and Windows
// (ERROR_DISK_FULL 112, ERROR_HANDLE_DISK_FULL 39).
func isNoSpace(err error) bool {
	var errno syscall.Errno
	if !errors.As(err, &errno) {
		return false
	}
	if runtime.GOOS == "windows" {
		return errno == 112 || errno == 39
	}
	return errno == syscall.ENOSPC
}
