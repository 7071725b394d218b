package platform

import "errors"

// ErrNotEnforced marks permissions this system accepts and does not keep:
// Wine returns success from SetNamedSecurityInfo and changes nothing, a FAT
// or exFAT drive has no ACLs, some mounts ignore chmod. cdb-setup then says
// "set but not enforced here" instead of claiming a private folder, and its
// checks warn instead of asking for a `secrets fix` that cannot help (which
// would loop: fix, check, fix, ...).
var ErrNotEnforced = errors.New("set but not enforced here")

// PermissionsEnforced reports whether this system keeps the private
// permissions cdb-setup sets on path; why names the reason when not ("Wine
// keeps no Windows ACLs"). It changes nothing.
func PermissionsEnforced(path string) (ok bool, why string) {
	return permissionsEnforced(path)
}
