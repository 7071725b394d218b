//go:build unix

package stack

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// hostReadable decides whether uid (from the container's "uid[:gid]" user)
// can read path through a bind mount on a native Linux engine, where the
// kernel checks the host file's owner and mode. known is false where that
// cannot be decided (a user name, Docker Desktop's file sharing).
func hostReadable(path, user string) (ok bool, why string, known bool) {
	uid, gid, numeric := parseUser(user)
	if !numeric {
		return false, "the container's user is a name, not a uid", false
	}
	st, err := os.Stat(path)
	if err != nil {
		return false, err.Error(), true
	}
	sys, isUnix := st.Sys().(*syscall.Stat_t)
	if !isUnix {
		return false, "no owner information", false
	}
	mode := st.Mode().Perm()
	why = fmt.Sprintf("file mode %04o, owner %d:%d", mode, sys.Uid, sys.Gid)
	switch {
	case uid == 0:
		return true, why, true
	case uint32(uid) == sys.Uid:
		return mode&0o400 != 0, why, true
	case gid >= 0 && uint32(gid) == sys.Gid:
		return mode&0o040 != 0, why, true
	default:
		return mode&0o004 != 0, why, true
	}
}

// parseUser splits a container's "uid[:gid]" user; names cannot be resolved
// from outside the image.
func parseUser(user string) (uid, gid int, ok bool) {
	if user == "" {
		return 0, 0, true
	}
	u, g, hasG := strings.Cut(user, ":")
	uid, err := strconv.Atoi(u)
	if err != nil {
		return 0, 0, false
	}
	gid = -1
	if hasG {
		if gid, err = strconv.Atoi(g); err != nil {
			gid = -1
		}
	}
	return uid, gid, true
}
