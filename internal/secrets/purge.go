package secrets

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Purge deletes the secrets folder's content that cdb-setup manages: the
// named secret files, their backups, leftover temp files, then the folder
// itself if nothing else is in it. It is what `uninstall --purge` calls
// (and nothing else should: it destroys passwords). Files cdb-setup does
// not know are left alone, and the folder with them. A symlinked folder is
// refused. Entries are removed one by one (os.RemoveAll fails under Wine).
func Purge(dir string, names []string) (removed []string, err error) {
	fi, err := os.Lstat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if fi.Mode()&fs.ModeSymlink != 0 || !fi.IsDir() {
		return nil, fmt.Errorf("secrets folder %s is not a plain folder; not purging it", dir)
	}
	known := map[string]bool{}
	for _, n := range names {
		if validName(n) == nil {
			known[n] = true
		}
	}
	rm := func(p string) error {
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		removed = append(removed, p)
		return nil
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var errs []error
	for _, e := range ents {
		p := filepath.Join(dir, e.Name())
		switch {
		case known[e.Name()] && (e.Type().IsRegular() || e.Type()&fs.ModeSymlink != 0):
			errs = append(errs, rm(p))
		case known[e.Name()] && e.IsDir():
			// An empty folder Docker made; a full one is not ours to delete.
			if sub, _ := os.ReadDir(p); len(sub) == 0 {
				errs = append(errs, rm(p))
			}
		case e.Name() == BackupDirName && e.IsDir():
			bents, _ := os.ReadDir(p)
			for _, b := range bents {
				if b.Type().IsRegular() {
					errs = append(errs, rm(filepath.Join(p, b.Name())))
				}
			}
			if left, _ := os.ReadDir(p); len(left) == 0 {
				errs = append(errs, rm(p))
			}
		case strings.HasPrefix(e.Name(), ".") && strings.Contains(e.Name(), ".tmp-") && e.Type().IsRegular():
			errs = append(errs, rm(p))
		}
	}
	if left, _ := os.ReadDir(dir); len(left) == 0 {
		errs = append(errs, rm(dir))
	}
	return removed, errors.Join(errs...)
}
