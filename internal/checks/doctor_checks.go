package checks

import (
	"context"

	"github.com/claire-de-binare/cdb-setup/internal/manifest"
)

// NotAvailable lists what doctor will check once the packages that know
// about it are in this version (shown, not faked).
// (Empty: "volumes vs secrets" is up's volumes.secrets preflight check,
// among the stack lines.)
var NotAvailable = []string{}

// Doctor returns every check of `cdb-setup doctor` for e, in the order
// they are shown.
func Doctor(ctx context.Context, e Env) []Check {
	var cs []Check
	for _, g := range DoctorGroups(ctx, e) {
		cs = append(cs, g...)
	}
	return cs
}

// DoctorGroups are Doctor's checks for RunGroups: the stack's checks in one
// group, in order (they share the Engine client the first one connects),
// the hook's in another (they share one inspection), every other check on
// its own (they only read).
func DoctorGroups(ctx context.Context, e Env) [][]Check {
	var gs [][]Check
	each := func(cs ...Check) {
		for _, c := range cs {
			gs = append(gs, []Check{c})
		}
	}
	each(systemCheck(e), documentsCheck(e), cloudSyncCheck(e), macOSFilesAndFoldersCheck(e), repoCheck(e))
	if len(e.Stack) > 0 {
		gs = append(gs, e.Stack)
	}
	each(secretsFolderCheck(e))
	each(secretFileChecks(ctx, e)...)
	each(secretsGitCheck(e), leftoversCheck(e))
	each(keychainCheck(e, e.Keychain), secretsPathEnvCheck(e), newShellsCheck(e), stateCheck(e))
	// The hook checks share one inspection of the clone.
	gs = append(gs, hookChecks(e))
	return gs
}

func manifestDefault(e Env) manifest.Selection {
	return manifest.Selection{Profile: e.Manifest.DefaultProfile}
}
