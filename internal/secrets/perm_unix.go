//go:build !windows

package secrets

import (
	"fmt"
	"io/fs"
	"os"
)

const isWindows = false

// modeMatches: the permission bits are exactly the chosen mode.
func modeMatches(_ string, fi fs.FileInfo, mode os.FileMode) bool {
	return fi.Mode().Perm() == mode.Perm()
}

// permissionProblem describes a file whose mode is not the chosen one.
func permissionProblem(path string, fi fs.FileInfo, mode os.FileMode) string {
	if modeMatches(path, fi, mode) {
		return ""
	}
	return fmt.Sprintf("has mode %04o, want %04o", fi.Mode().Perm(), mode.Perm())
}
