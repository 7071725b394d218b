package platform

import "os/exec"

// ownProcessGroup: env status runs no Unix shells on Windows (ProbeShells
// returns nothing there), so there is no group to manage.
func ownProcessGroup(cmd *exec.Cmd) {}

func killProcessGroup(cmd *exec.Cmd) {}
