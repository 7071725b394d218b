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
	cs := []Check{systemCheck(e), documentsCheck(e), cloudSyncCheck(e), macOSFilesAndFoldersCheck(e), repoCheck(e)}
	cs = append(cs, e.Stack...)
	cs = append(cs, secretsFolderCheck(e))
	cs = append(cs, secretFileChecks(ctx, e)...)
	cs = append(cs, secretsGitCheck(e), tlsCheck(e), leftoversCheck(e))
	cs = append(cs, keychainCheck(e, e.Keychain), secretsPathEnvCheck(e), newShellsCheck(e), stateCheck(e))
	cs = append(cs, hookChecks(e)...)
	return cs
}

func manifestDefault(e Env) manifest.Selection {
	return manifest.Selection{Profile: e.Manifest.DefaultProfile}
}
