//go:build !windows

package platform

import (
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"strconv"
	"syscall"
)

func ownedByMe(path string, fi fs.FileInfo) error {
	sys, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return nil
	}
	if uid := os.Geteuid(); int(sys.Uid) != uid {
		owner := strconv.Itoa(int(sys.Uid))
		if u, err := user.LookupId(owner); err == nil {
			owner = u.Username
		}
		return fmt.Errorf("secrets folder %s %w (%s): use a folder of your own with --secrets-path, or have its owner hand it over (sudo chown)", path, ErrForeignOwner, owner)
	}
	return nil
}

func restrictDir(path string, _ bool) (bool, string, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return false, "", err
	}
	if fi.Mode().Perm() == 0o700 {
		return false, "mode 0700", nil
	}
	if err := os.Chmod(path, 0o700); err != nil {
		return false, "", fmt.Errorf("restrict %s to 0700: %w", path, err)
	}
	// Read it back: some mounts accept chmod and keep nothing.
	if after, err := os.Stat(path); err == nil && after.Mode().Perm() != 0o700 {
		return false, "", fmt.Errorf("mode 0700 %w (the file system keeps mode %04o for %s)", ErrNotEnforced, after.Mode().Perm(), path)
	}
	return true, fmt.Sprintf("mode 0700 (was %04o)", fi.Mode().Perm()), nil
}

func checkDirPrivate(path string, _ bool) error {
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return fmt.Errorf("secrets folder %s has mode %04o: other users can read it; run `cdb-setup secrets fix` (or chmod 700 %s)", path, perm, path)
	}
	return nil
}

// RestrictFile sets a secret file's mode (Unix) or its protected DACL
// (Windows, where mode is ignored), and reads it back: an error wrapping
// ErrNotEnforced means it was set and this system did not keep it.
func RestrictFile(path string, mode os.FileMode, _ bool) error {
	if err := os.Chmod(path, mode); err != nil {
		return fmt.Errorf("chmod %04o %s: %w", mode, path, err)
	}
	if fi, err := os.Stat(path); err == nil && fi.Mode().Perm() != mode.Perm() {
		return fmt.Errorf("mode %04o %w (the file system keeps mode %04o for %s)", mode.Perm(), ErrNotEnforced, fi.Mode().Perm(), path)
	}
	return nil
}
