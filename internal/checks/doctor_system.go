package checks

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/claire-de-binare/cdb-setup/internal/platform"
)

// systemCheck reports the facts every other answer depends on.
func systemCheck(e Env) Check {
	return check("system", "System", func(context.Context) Result {
		f := e.Facts
		s := f.OS + "/" + f.Arch
		if f.WSL {
			s += ", WSL"
			if f.WSLDistro != "" {
				s += " " + f.WSLDistro
			}
		}
		if f.LoginShell != "" {
			s += ", shell " + f.LoginShell
		}
		return ok(s + ", home " + f.Home)
	})
}

// documentsCheck: the default secrets folder lives in Documents; a
// Documents folder that does not exist usually means it was redirected.
func documentsCheck(e Env) Check {
	return check("documents", "Documents folder", func(context.Context) Result {
		f := e.Facts
		fi, err := os.Stat(f.Documents)
		switch {
		case err != nil && e.SecretsDir != "" && !isUnder(e.SecretsDir, f.Documents):
			return ok(fmt.Sprintf("%s does not exist; not needed (the secrets folder is elsewhere)", f.Documents))
		case err != nil:
			return warn(fmt.Sprintf("%s (%s) does not exist", f.Documents, f.DocumentsSource),
				fmt.Sprintf("nothing to do if your secrets live elsewhere (pass --secrets-path); otherwise create it: mkdir %s", e.q(f.Documents)))
		case !fi.IsDir():
			return fail(f.Documents+" is not a folder", "move the file "+e.q(f.Documents)+" away, or pass --secrets-path DIR")
		}
		return ok(fmt.Sprintf("%s (%s)", f.Documents, f.DocumentsSource))
	})
}

// cloudSyncCheck: secrets in a synced Documents folder are uploaded to the
// cloud provider and to every other machine of the account.
func cloudSyncCheck(e Env) Check {
	return check("cloud-sync", "Cloud sync", func(context.Context) Result {
		f := e.Facts
		if f.CloudSync == "" {
			return ok("Documents is not synced by OneDrive or iCloud Drive")
		}
		if e.SecretsDir == "" || !isUnder(e.SecretsDir, f.Documents) {
			return ok(fmt.Sprintf("Documents is synced by %s, but the secrets folder is outside it", f.CloudSync))
		}
		alt := filepath.Join(f.Home, ".secrets", ".cdb")
		return warn(fmt.Sprintf("the secrets folder %s is inside Documents, which %s syncs: the passwords are uploaded to the cloud", e.SecretsDir, f.CloudSync),
			fmt.Sprintf("keep them on this machine: cdb-setup secrets init --secrets-path %s, then cdb-setup env set --secrets-path %s (and delete the old folder)", e.q(alt), e.q(alt)))
	})
}

// macOSFilesAndFoldersCheck: macOS privacy controls block Docker Desktop
// from mounting anything under ~/Documents until it is allowed. Whether it is allowed cannot be read without Full Disk Access, so
// this is a reminder with the exact place to look, not a verdict.
func macOSFilesAndFoldersCheck(e Env) Check {
	return check("macos-files-and-folders", "macOS Files and Folders", func(context.Context) Result {
		f := e.Facts
		if f.OS != "darwin" {
			return skip("only on macOS")
		}
		docs := filepath.Join(f.Home, "Documents")
		if e.SecretsDir == "" || !isUnder(e.SecretsDir, docs) {
			return ok("the secrets folder is not under ~/Documents: no permission needed")
		}
		return warn("the secrets folder is under ~/Documents: Docker Desktop can mount it only once macOS allows Docker to access the Documents folder",
			"System Settings → Privacy & Security → Files and Folders → Docker → turn on \"Documents Folder\" (if Docker is not listed, start the stack once and accept the prompt); then restart Docker Desktop")
	})
}

// isUnder reports whether p is root or inside it (case-insensitively on
// the case-insensitive file systems of Windows and macOS).
func isUnder(p, root string) bool {
	p, root = filepath.Clean(p), filepath.Clean(root)
	if strings.EqualFold(p, root) {
		return true
	}
	rel, err := filepath.Rel(strings.ToLower(root), strings.ToLower(p))
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel)
}

// q quotes a path for the shell of the OS doctor describes (e.Facts.OS),
// not the one it runs on, so every fix line can be tested for each OS.
func (e Env) q(p string) string { return platform.QuotePath(e.Facts.OS, p) }
