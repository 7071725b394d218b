//go:build !windows

package platform

// Unix file systems keep modes; a mount that ignores chmod is caught when
// the mode is read back after setting it (restrictDir, RestrictFile).
func permissionsEnforced(string) (bool, string) { return true, "" }
