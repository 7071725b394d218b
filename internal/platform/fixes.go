package platform

import (
	"fmt"
	"strings"
)

// Fix texts that depend on the OS the user is on. doctor, up's preflight
// checks and the secrets commands all render their OS-specific advice here,
// so a Windows user never reads chmod, sudo or `$(…)`, and a macOS user
// never gets Linux's install page. goos is Facts.OS (runtime.GOOS in
// production; tests pass each OS). Every command rendered here runs as
// printed in the user's usual shell: PowerShell or cmd on Windows (no `&&`,
// which Windows PowerShell 5.1 lacks), sh/bash/zsh/fish elsewhere (no
// `$(…)`, which fish before 3.4 lacks).

// Docker Desktop's install pages, per OS.
const (
	DockerDesktopWindowsDocs = "https://docs.docker.com/desktop/setup/install/windows-install/"
	DockerDesktopMacDocs     = "https://docs.docker.com/desktop/setup/install/mac-install/"
	ComposeLinuxDocs         = "https://docs.docker.com/compose/install/linux/"
)

// QuotePath quotes p for pasting into a command on goos, only when it needs
// it: double quotes on Windows (PowerShell and cmd both take them), POSIX
// single quotes elsewhere.
func QuotePath(goos, p string) string {
	if goos == "windows" {
		if p == "" || strings.ContainsAny(p, " &()[]{}^=;!'+,`~$@#%") {
			return `"` + p + `"`
		}
		return p
	}
	if p == "" || strings.ContainsAny(p, " '\"$`\\!*?[]{}()<>|&;#~") {
		return ShellQuote(p)
	}
	return p
}

// PrivateFolderFix is the fix for a secrets folder other users can read.
func PrivateFolderFix(goos, dir string) string {
	if goos == "windows" {
		// icacls needs the account name in a form that differs between
		// cmd and PowerShell; `secrets fix` sets the exact protected DACL.
		return "cdb-setup secrets fix (it gives the folder a protected ACL for your user only)"
	}
	return "cdb-setup secrets fix (or: chmod 700 " + QuotePath(goos, dir) + ")"
}

// ForeignOwnerFix is the fix for a secrets folder owned by another user.
// me is the current user's account name ("" when unknown).
func ForeignOwnerFix(goos, dir, me string) string {
	own := "use a folder of your own: cdb-setup secrets init --secrets-path DIR"
	if goos == "windows" {
		return own + " (or, if this folder should be yours, take ownership from an elevated prompt: takeown /F " + QuotePath(goos, dir) + " /R)"
	}
	if me == "" {
		return own + " (or have its owner give it to you with chown)"
	}
	return own + " (or have an administrator give it to you: sudo chown -R " + QuotePath(goos, me) + " " + QuotePath(goos, dir) + ")"
}

// ComposeInstallFix is the fix for a machine without Docker Compose v2.
func ComposeInstallFix(goos string) string {
	switch goos {
	case "windows":
		return "install or update Docker Desktop, which includes Compose v2: " + DockerDesktopWindowsDocs
	case "darwin":
		return "install or update Docker Desktop, which includes Compose v2: " + DockerDesktopMacDocs
	}
	// A command to type, not only a page to read (issue 14): the package
	// is docker-compose-plugin in Docker's apt and dnf repositories,
	// docker-compose-v2 in Ubuntu's own.
	return "install the Docker Compose v2 plugin: `sudo apt-get install docker-compose-plugin` (Debian/Ubuntu with Docker's repository; Ubuntu's own package: docker-compose-v2) or `sudo dnf install docker-compose-plugin` (Fedora/RHEL); see " + ComposeLinuxDocs
}

// DockerUpdateFix is the fix for a Docker Engine too old for the stack.
func DockerUpdateFix(goos string) string {
	switch goos {
	case "windows", "darwin":
		return "update Docker Desktop (its menu: Check for updates)"
	}
	return "update Docker (your distribution's docker.io, or docker-ce from Docker's repository; Docker Desktop: Check for updates)"
}

// RemoveEmptyDirCommand removes an empty folder (a secret path Docker
// created as a folder): rmdir exists in PowerShell, cmd and every Unix
// shell, and refuses a folder that is not empty.
func RemoveEmptyDirCommand(goos, dir string) string {
	return "rmdir " + QuotePath(goos, dir)
}

// MoveCommand renames a file (move in PowerShell and cmd, mv elsewhere).
func MoveCommand(goos, from, to string) string {
	if goos == "windows" {
		return "move " + QuotePath(goos, from) + " " + QuotePath(goos, to)
	}
	return "mv " + QuotePath(goos, from) + " " + QuotePath(goos, to)
}

// StopPortHolderHint tells how to stop the process holding a TCP port: pid
// is its process id, or "" when the OS did not say which process it is.
func StopPortHolderHint(goos string, port int, who, pid string) string {
	if goos == "windows" {
		if pid != "" {
			return fmt.Sprintf("stop %s (e.g. `taskkill /PID %s`)", who, pid)
		}
		return fmt.Sprintf("find it with `netstat -ano | findstr :%d` (the last column is its process id) and stop it in Task Manager, or with taskkill /PID and that number", port)
	}
	if pid != "" {
		return fmt.Sprintf("stop %s (e.g. `kill %s`)", who, pid)
	}
	return fmt.Sprintf("find it with `lsof -iTCP:%d -sTCP:LISTEN` and stop it", port)
}

// MakeWritableCommand clears a file's read-only protection (the read-only
// attribute on Windows, the owner's write bit elsewhere).
func MakeWritableCommand(goos, path string) string {
	if goos == "windows" {
		return "attrib -R " + QuotePath(goos, path)
	}
	return "chmod u+w " + QuotePath(goos, path)
}
