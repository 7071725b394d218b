package hook

import (
	"os"
	"path/filepath"
	"strings"
)

// Manager is a hook manager a repository already uses.
type Manager struct {
	// Name: "pre-commit", "husky", "lefthook", or another known manager
	// cdb-setup cannot extend ("overcommit", "simple-git-hooks", ...).
	Name string `json:"name"`
	// Config is the file or folder that shows it is in use.
	Config string `json:"config"`
}

// Integrates is true for the managers whose configuration cdb-setup edits
// itself (only the pre-commit framework, whose format is plain YAML with a
// documented local-hook form).
func (m Manager) Integrates() bool { return m.Name == "pre-commit" }

var managerFiles = []struct{ name, file string }{
	{"pre-commit", PreCommitConfigName},
	{"husky", ".husky"},
	{"lefthook", "lefthook.yml"},
	{"lefthook", ".lefthook.yml"},
	{"lefthook", "lefthook.yaml"},
	{"lefthook", ".lefthook.yaml"},
	{"lefthook", "lefthook.toml"},
	{"lefthook", "lefthook.json"},
	{"lefthook", ".config/lefthook.yml"},
	{"overcommit", ".overcommit.yml"},
	{"simple-git-hooks", ".simple-git-hooks.json"},
	{"simple-git-hooks", ".simple-git-hooks.js"},
	{"simple-git-hooks", "simple-git-hooks.json"},
	{"simple-git-hooks", "simple-git-hooks.js"},
	{"yorkie", ".yorkierc"},
	{"ghooks", ".ghooks"},
}

// DetectManagers lists the hook managers the work tree shows signs of, the
// pre-commit framework first. core.hooksPath pointing into .husky counts
// even without the folder being present yet.
func DetectManagers(loc Location) []Manager {
	var out []Manager
	seen := map[string]bool{}
	for _, mf := range managerFiles {
		p := filepath.Join(loc.TopLevel, filepath.FromSlash(mf.file))
		if _, err := os.Lstat(p); err == nil && !seen[mf.name] {
			seen[mf.name] = true
			out = append(out, Manager{Name: mf.name, Config: p})
		}
	}
	if hp := filepath.ToSlash(loc.HooksPathConfig); !seen["husky"] && strings.Contains(hp, ".husky") {
		out = append(out, Manager{Name: "husky", Config: "core.hooksPath=" + loc.HooksPathConfig})
	}
	return out
}

// ManagerInstructions says what to add to a manager cdb-setup does not edit.
func ManagerInstructions(m Manager, configFile string) string {
	cmd := PreCommitEntry(configFile)
	switch m.Name {
	case "husky":
		return "add this line to .husky/pre-commit: " + cmd
	case "lefthook":
		return "add to " + filepath.Base(m.Config) + ":  pre-commit: { commands: { gitleaks: { run: \"" + cmd + "\" } } }, then run `lefthook install`"
	default:
		return "add this command to the pre-commit hook of " + m.Name + " (" + m.Config + "): " + cmd
	}
}

// managerRunsGitleaks is true when the manager's own pre-commit
// configuration already mentions gitleaks (so the user followed our advice).
func managerRunsGitleaks(m Manager, loc Location) bool {
	var files []string
	switch m.Name {
	case "husky":
		files = []string{filepath.Join(loc.TopLevel, ".husky", "pre-commit")}
	default:
		files = []string{m.Config}
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err == nil && strings.Contains(string(b), "gitleaks") {
			return true
		}
	}
	return false
}

// RepoGitleaksConfig is the repository's gitleaks configuration file name
// (".gitleaks.toml" first, as gitleaks itself prefers it), or "".
func RepoGitleaksConfig(top string) string {
	for _, c := range []string{".gitleaks.toml", "gitleaks.toml"} {
		if st, err := os.Stat(filepath.Join(top, c)); err == nil && st.Mode().IsRegular() {
			return c
		}
	}
	return ""
}
