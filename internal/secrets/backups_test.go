package secrets

import (
	"path/filepath"
	"runtime"
	"strings"
)

// Backups lists the backups of name, oldest first.
func Backups(dir, name string) ([]string, error) {
	matches, err := filepath.Glob(filepath.Join(dir, BackupDirName, globEscape(name)+".*"))
	return matches, err
}

func globEscape(s string) string {
	r := strings.NewReplacer(`*`, `\*`, `?`, `\?`, `[`, `\[`)
	if runtime.GOOS == "windows" {
		return s
	}
	return r.Replace(s)
}
