package secrets

import (
	"fmt"
	"io/fs"
	"os"

	"golang.org/x/sys/windows"

	"github.com/claire-de-binare/cdb-setup/internal/platform"
)

const isWindows = true

// modeMatches reads the file's DACL back: it must be the protected DACL for
// the current user (optionally with SYSTEM). Where the system keeps no ACLs
// (Wine, a FAT drive) there is nothing to correct, so it matches; the
// folder's check warns about it once (CodeNotEnforced).
func modeMatches(path string, _ fs.FileInfo, _ os.FileMode) bool {
	return permissionProblem(path, nil, 0) == ""
}

func permissionProblem(path string, _ fs.FileInfo, _ os.FileMode) string {
	tok := windows.GetCurrentProcessToken()
	u, err := tok.GetTokenUser()
	if err != nil {
		return ""
	}
	sd, err := windows.GetNamedSecurityInfo(path, windows.SE_FILE_OBJECT, windows.DACL_SECURITY_INFORMATION)
	if err != nil {
		return fmt.Sprintf("permissions cannot be read (%v)", err)
	}
	got := sd.String()
	me := u.User.Sid.String()
	if privateDACL(got, me) {
		return ""
	}
	if ok, _ := platform.PermissionsEnforced(path); !ok {
		// Nothing to correct here: the folder's check says why, once.
		return ""
	}
	return fmt.Sprintf("is readable by more than your user (DACL %s)", got)
}
