// Package platform holds OS facts and OS effects: where Documents is, whether
// this is WSL, private folders and files, atomic writes, the persistent user
// environment, the state file and the run lock. Nothing here prints.
package platform

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// Facts describe the machine as far as setup cares.
type Facts struct {
	OS   string `json:"os"`   // runtime.GOOS
	Arch string `json:"arch"` // runtime.GOARCH
	// WSL is true inside Windows Subsystem for Linux; WSLDistro names it.
	WSL       bool   `json:"wsl"`
	WSLDistro string `json:"wsl_distro,omitempty"`
	Home      string `json:"home"`
	// Documents is the user's Documents folder; DocumentsSource says how it
	// was found ("known folder", "user-dirs.dirs", "XDG_DOCUMENTS_DIR", "default").
	Documents       string `json:"documents"`
	DocumentsSource string `json:"documents_source"`
	// CloudSync names the service that syncs Documents ("OneDrive",
	// "iCloud Drive"), or "". Secrets in a synced folder go to the cloud.
	CloudSync string `json:"cloud_sync,omitempty"`
	// LoginShell is the user's login shell ($SHELL on Unix), if known.
	LoginShell string `json:"login_shell,omitempty"`
}

// DefaultSecretsPath is <Documents>/.secrets/.cdb (docs/secrets.md).
func (f Facts) DefaultSecretsPath() string {
	return filepath.Join(f.Documents, ".secrets", ".cdb")
}

// Detect reads the facts of this machine.
func Detect(env Environment) (Facts, error) {
	return detect(env, runtime.GOOS, os.ReadFile)
}

func detect(env Environment, goos string, readFile func(string) ([]byte, error)) (Facts, error) {
	f := Facts{OS: goos, Arch: runtime.GOARCH}
	home, err := homeDir(env, goos)
	if err != nil {
		return f, err
	}
	f.Home = home
	if goos == "linux" {
		f.WSL, f.WSLDistro = detectWSL(env, readFile)
	}
	if goos != "windows" {
		f.LoginShell = env.Getenv("SHELL")
	}
	f.Documents, f.DocumentsSource, err = documentsDir(env, goos, home, readFile)
	if err != nil {
		return f, err
	}
	f.CloudSync = cloudSync(env, goos, home, f.Documents)
	return f, nil
}

func homeDir(env Environment, goos string) (string, error) {
	if goos == "windows" {
		if h := env.Getenv("USERPROFILE"); h != "" {
			return h, nil
		}
		return "", errors.New("USERPROFILE is not set: cannot find your home folder")
	}
	h := env.Getenv("HOME")
	if h == "" {
		return "", errors.New("HOME is not set: cannot find your home folder; set HOME or pass --secrets-path")
	}
	return h, nil
}

// detectWSL: WSL sets WSL_DISTRO_NAME for every process started through it;
// /proc/version names Microsoft's kernel even when the variable was dropped
// (sudo, systemd services).
func detectWSL(env Environment, readFile func(string) ([]byte, error)) (bool, string) {
	if d := env.Getenv("WSL_DISTRO_NAME"); d != "" {
		return true, d
	}
	b, err := readFile("/proc/version")
	if err == nil && strings.Contains(strings.ToLower(string(b)), "microsoft") {
		return true, ""
	}
	return false, ""
}

func documentsDir(env Environment, goos, home string, readFile func(string) ([]byte, error)) (dir, source string, err error) {
	switch goos {
	case "windows":
		d, err := knownDocumentsFolder()
		if err == nil && d != "" {
			return d, "known folder", nil
		}
		return filepath.Join(home, "Documents"), "default", nil
	case "darwin":
		return filepath.Join(home, "Documents"), "default", nil
	default:
		if d := env.Getenv("XDG_DOCUMENTS_DIR"); d != "" {
			return expandHome(d, home), "XDG_DOCUMENTS_DIR", nil
		}
		cfg := env.Getenv("XDG_CONFIG_HOME")
		if cfg == "" || !filepath.IsAbs(cfg) {
			cfg = filepath.Join(home, ".config")
		}
		b, rerr := readFile(filepath.Join(cfg, "user-dirs.dirs"))
		if rerr == nil {
			if d, ok := ParseUserDirs(string(b), home)["XDG_DOCUMENTS_DIR"]; ok {
				// xdg-user-dirs sets a folder equal to $HOME to mean "disabled".
				if filepath.Clean(d) != filepath.Clean(home) {
					return d, "user-dirs.dirs", nil
				}
			}
		}
		return filepath.Join(home, "Documents"), "default", nil
	}
}

// ParseUserDirs reads xdg-user-dirs' user-dirs.dirs: lines of
// XDG_xxx_DIR="$HOME/yyy" (shell syntax, but only "$HOME/" prefixes and
// absolute paths are allowed by the spec). Malformed lines are ignored, as
// xdg-user-dirs itself does.
func ParseUserDirs(content, home string) map[string]string {
	out := map[string]string{}
	for _, line := range strings.Split(content, "\n") {
		line = strings.TrimSpace(strings.TrimSuffix(line, "\r"))
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		key, val, ok := strings.Cut(line, "=")
		if !ok || !strings.HasPrefix(key, "XDG_") || !strings.HasSuffix(key, "_DIR") {
			continue
		}
		if len(val) < 2 || val[0] != '"' || val[len(val)-1] != '"' {
			continue
		}
		val = val[1 : len(val)-1]
		val = strings.ReplaceAll(val, `\"`, `"`)
		val = strings.ReplaceAll(val, `\\`, `\`)
		switch {
		case val == "$HOME":
			val = home
		case strings.HasPrefix(val, "$HOME/"):
			val = filepath.Join(home, val[len("$HOME/"):])
		case strings.HasPrefix(val, "/"):
		default:
			continue
		}
		out[key] = filepath.Clean(val)
	}
	return out
}

func expandHome(p, home string) string {
	switch {
	case p == "~" || p == "$HOME":
		return home
	case strings.HasPrefix(p, "~/"):
		return filepath.Join(home, p[2:])
	case strings.HasPrefix(p, "$HOME/"):
		return filepath.Join(home, p[len("$HOME/"):])
	}
	return p
}

// cloudSync says which service syncs the Documents folder, if any.
func cloudSync(env Environment, goos, home, documents string) string {
	switch goos {
	case "windows":
		// Known Folder Move points Documents into the OneDrive folder; the
		// OneDrive client sets these variables to its roots.
		for _, k := range []string{"OneDrive", "OneDriveConsumer", "OneDriveCommercial"} {
			root := env.Getenv(k)
			if root != "" && isUnder(documents, root, true) {
				return "OneDrive"
			}
		}
		if strings.Contains(strings.ToLower(documents), `\onedrive`) {
			return "OneDrive"
		}
	case "darwin":
		// "Desktop & Documents Folders" in iCloud Drive keeps a Documents
		// folder under CloudDocs.
		p := filepath.Join(home, "Library", "Mobile Documents", "com~apple~CloudDocs", "Documents")
		if st, err := os.Stat(p); err == nil && st.IsDir() {
			return "iCloud Drive"
		}
	}
	return ""
}

// isUnder reports whether p is root or inside it.
func isUnder(p, root string, foldCase bool) bool {
	p, root = filepath.Clean(p), filepath.Clean(root)
	if foldCase {
		p, root = strings.ToLower(p), strings.ToLower(root)
	}
	if p == root {
		return true
	}
	sep := string(filepath.Separator)
	return strings.HasPrefix(p, strings.TrimSuffix(root, sep)+sep)
}

// String is a one-line description for the wizard's welcome and doctor.
func (f Facts) String() string {
	s := f.OS + "/" + f.Arch
	if f.WSL {
		s += " (WSL"
		if f.WSLDistro != "" {
			s += " " + f.WSLDistro
		}
		s += ")"
	}
	return fmt.Sprintf("%s, home %s, Documents %s", s, f.Home, f.Documents)
}
