//go:build !windows

package platform

import (
	"os"
	"syscall"
)

// keepOwner gives path the owner of the file it replaced: when root edits a
// user's dotfile (sudo cdb-setup ...), the file must stay the user's.
func keepOwner(path string, old os.FileInfo) error {
	st, ok := old.Sys().(*syscall.Stat_t)
	if !ok || os.Geteuid() != 0 {
		return nil
	}
	return os.Lchown(path, int(st.Uid), int(st.Gid))
}
