package hook

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/claire-de-binare/cdb-setup/internal/platform"
)

// Status is what `cdb-setup hook status` reports.
type Status struct {
	Location
	// Mode says what protects this clone: "native" (cdb-setup's hook),
	// "pre-commit" (the framework with cdb-setup's or another gitleaks hook),
	// the name of another manager, or "none".
	Mode      string    `json:"mode"`
	Protected bool      `json:"protected"`
	Managers  []Manager `json:"managers,omitempty"`
	// HookVersion is the script version of cdb-setup's native hook (0: none);
	// HookCurrent is false when `hook install` would update it.
	HookVersion int    `json:"hook_version,omitempty"`
	HookCurrent bool   `json:"hook_current"`
	HookSymlink string `json:"hook_symlink,omitempty"`
	// Chained is the foreign hook that runs first, if any.
	Chained  string   `json:"chained,omitempty"`
	Gitleaks Gitleaks `json:"gitleaks"`
	// Config is the repository's gitleaks configuration ("" when none).
	Config    string         `json:"config,omitempty"`
	PreCommit *PreCommitInfo `json:"pre_commit,omitempty"`
	// Problems are one line each, ending in the fix.
	Problems []string `json:"problems,omitempty"`
}

// Inspect reports the protection of opts.Repo without changing anything.
func Inspect(ctx context.Context, opts Options) (Status, error) {
	var st Status
	loc, err := Locate(ctx, opts.Env, opts.Repo, "hook status")
	if err != nil {
		return st, err
	}
	st.Location = loc
	st.Managers = DetectManagers(loc)
	st.Config = RepoGitleaksConfig(loc.TopLevel)
	st.Gitleaks, err = FindGitleaks(ctx, opts.Env, opts.goos())
	if err != nil {
		st.Problems = append(st.Problems, err.Error())
	}
	install := InstallCommands(opts.goos(), opts.Env)
	switch {
	case !st.Gitleaks.Found:
		st.Problems = append(st.Problems, "gitleaks is not installed: "+strings.Join(install, "  or  "))
	case st.Gitleaks.TooOld():
		st.Problems = append(st.Problems, fmt.Sprintf("gitleaks %s is too old (v8 needed): %s", st.Gitleaks.Version, install[0]))
	case st.Gitleaks.Deprecated():
		st.Problems = append(st.Problems, fmt.Sprintf("gitleaks %s is older than 8.19 (uses the deprecated `protect`): %s", st.Gitleaks.Version, install[0]))
	}
	if st.Config == "" {
		st.Problems = append(st.Problems, "the repository has no .gitleaks.toml or gitleaks.toml: gitleaks uses its default rules")
	}
	h, err := readHook(loc.HookPath)
	if err != nil {
		return st, err
	}
	st.HookSymlink = h.symlink
	st.Mode = "none"
	switch {
	case h.ours:
		st.Mode, st.Protected, st.HookVersion = "native", true, h.version
		// The script also names cdb-setup and the secrets folder, which
		// status does not know; version and gitleaks path decide.
		st.HookCurrent = h.version == ScriptVersion && strings.Contains(string(h.content), "\ngitleaks="+platform.ShellQuote(filepath.ToSlash(st.Gitleaks.Path))+"\n")
		if !st.HookCurrent {
			st.Problems = append(st.Problems, "the hook script is outdated or names another gitleaks: run `cdb-setup hook install` to update it")
		}
		if _, err := os.Lstat(loc.HookPath + ChainedSuffix); err == nil {
			st.Chained = loc.HookPath + ChainedSuffix
		}
	case strings.Contains(string(h.content), preCommitGenerated):
		st.Mode = "pre-commit"
		if b, err := os.ReadFile(filepath.Join(loc.TopLevel, PreCommitConfigName)); err == nil {
			if info, err := InspectPreCommitConfig(b); err == nil {
				st.PreCommit = &info
				st.Protected = info.HasOurHook || len(info.UnconfiguredGitleaks) > 0
				if info.HasOurHook && !info.HasScanHook {
					st.Problems = append(st.Problems, "the pre-commit configuration lacks the "+PreCommitScanID+" hook (your secret values, URIs with a password), which this cdb-setup adds: run `cdb-setup hook uninstall`, then `cdb-setup hook install`")
				}
				if info.HasOurHook && VerboseEntry(info.OurEntry) {
					st.Problems = append(st.Problems, "the "+PreCommitHookID+" hook in "+PreCommitConfigName+" runs gitleaks with --verbose, which can print a secret's value: run `cdb-setup hook uninstall`, then `cdb-setup hook install`")
				}
				if len(info.UnconfiguredGitleaks) > 0 && !info.HasOurHook && st.Config == "gitleaks.toml" {
					st.Problems = append(st.Problems, "the pre-commit gitleaks hook runs without --config gitleaks.toml: run `cdb-setup hook install`")
				}
			}
		}
		if _, err := os.Lstat(loc.HookPath + ".legacy"); err == nil {
			st.Chained = loc.HookPath + ".legacy"
		}
	}
	if st.Mode == "none" && len(st.Managers) > 0 && !st.Managers[0].Integrates() {
		st.Mode = st.Managers[0].Name
		st.Protected = managerRunsGitleaks(st.Managers[0], loc)
	}
	if !st.Protected {
		st.Problems = append(st.Problems, "commits in this clone are not checked for secrets: run `cdb-setup hook install`")
	}
	if h.symlink != "" {
		st.Problems = append(st.Problems, fmt.Sprintf("%s is a symlink to %s: cdb-setup does not write through it", loc.HookPath, h.symlink))
	}
	return st, nil
}
