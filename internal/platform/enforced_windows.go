package platform

import (
	"fmt"
	"path/filepath"

	"golang.org/x/sys/windows"
)

func permissionsEnforced(path string) (bool, string) {
	// Wine's ntdll exports wine_get_version; Windows' never does.
	if windows.NewLazySystemDLL("ntdll.dll").NewProc("wine_get_version").Find() == nil {
		return false, "Wine accepts Windows ACLs but does not keep them"
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return true, ""
	}
	p, err := windows.UTF16PtrFromString(abs)
	if err != nil {
		return true, ""
	}
	vol := make([]uint16, windows.MAX_PATH+1)
	if err := windows.GetVolumePathName(p, &vol[0], uint32(len(vol))); err != nil {
		return true, "" // unknown: the read-back after setting still tells
	}
	var flags uint32
	fsName := make([]uint16, windows.MAX_PATH+1)
	if err := windows.GetVolumeInformation(&vol[0], nil, 0, nil, nil, &flags, &fsName[0], uint32(len(fsName))); err != nil {
		return true, ""
	}
	if flags&windows.FILE_PERSISTENT_ACLS == 0 {
		return false, fmt.Sprintf("the %s drive %s keeps no ACLs", windows.UTF16ToString(fsName), windows.UTF16ToString(vol))
	}
	return true, ""
}
