package platform

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// WindowsDocumentsFromWSL asks Windows (through WSL interop) for the user's
// Documents folder, which follows OneDrive redirection, and returns it as a
// WSL path (/mnt/c/...). Docker Desktop on Windows sees the same folder.
func WindowsDocumentsFromWSL(ctx context.Context, run Runner) (string, error) {
	out, err := run(ctx, "powershell.exe", "-NoProfile", "-NonInteractive", "-Command", "[Environment]::GetFolderPath('MyDocuments')")
	if err != nil {
		return "", fmt.Errorf("ask Windows for the Documents folder (powershell.exe through WSL interop): %v", err)
	}
	win := strings.TrimSpace(string(out))
	if win == "" {
		return "", errors.New("no Documents folder reported by Windows")
	}
	out, err = run(ctx, "wslpath", "-u", win)
	if err != nil {
		return "", fmt.Errorf("wslpath -u %s: %v", win, err)
	}
	return strings.TrimSpace(string(out)), nil
}

// WSLMountWarning explains why a secrets folder under /mnt/c is a trade-off.
const WSLMountWarning = "the folder is on the Windows drive (/mnt/...): Linux permissions (0700/0600) cannot be enforced there, so any Windows program running as you can read the secrets; Windows Docker Desktop and WSL share it"
