package hook

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/claire-de-binare/cdb-setup/internal/exitcode"
	"github.com/claire-de-binare/cdb-setup/internal/platform"
	"github.com/claire-de-binare/cdb-setup/internal/step"
)

// Location is where a clone keeps its hooks.
type Location struct {
	// TopLevel is the work tree's top folder (where the config files live).
	TopLevel string `json:"top_level"`
	// HooksDir is the folder git runs hooks from: .git/hooks, the common
	// folder's hooks for a linked worktree, .git/modules/x/hooks for a
	// submodule, or core.hooksPath.
	HooksDir string `json:"hooks_dir"`
	// HookPath is HooksDir/pre-commit.
	HookPath string `json:"hook_path"`
	// HooksPathConfig is core.hooksPath when set ("" otherwise).
	HooksPathConfig string `json:"core_hooks_path,omitempty"`
}

// Locate asks git where repo's hooks live. Not a git repository and a bare
// repository are environment errors (exit 3): there is nothing to commit from.
// command is the cdb-setup command being run ("hook status"): the fixes say
// to run that one again, not one the user never ran.
func Locate(ctx context.Context, env platform.Environment, repo, command string) (Location, error) {
	var loc Location
	out, err := run(ctx, env, repo, gitTimeout, "git", "rev-parse", "--is-bare-repository")
	if err != nil {
		return loc, gitError(err, repo, command)
	}
	if strings.TrimSpace(string(out)) == "true" {
		return loc, exitcode.New(exitcode.Environment, step.WithFix(
			fmt.Errorf("%s is a bare repository: it has no work tree, so nothing is committed from it and a pre-commit hook never runs", repo),
			"run `cdb-setup "+command+"` inside a clone with a work tree (git clone <url>)"))
	}
	out, err = run(ctx, env, repo, gitTimeout, "git", "rev-parse", "--path-format=absolute", "--show-toplevel", "--git-path", "hooks")
	if err != nil {
		var ce *cmdError
		if errors.As(err, &ce) && strings.Contains(ce.Stderr, "path-format") {
			return loc, exitcode.New(exitcode.Environment, step.WithFix(
				fmt.Errorf("git is too old to report the hooks folder (needs 2.31+): %w", err),
				"update git (https://git-scm.com/downloads), then run `cdb-setup "+command+"` again"))
		}
		return loc, gitError(err, repo, command)
	}
	lines := strings.Split(strings.TrimRight(strings.ReplaceAll(string(out), "\r\n", "\n"), "\n"), "\n")
	if len(lines) != 2 {
		return loc, fmt.Errorf("git rev-parse in %s: unexpected answer %q", repo, string(out))
	}
	loc.TopLevel = filepath.Clean(filepath.FromSlash(lines[0]))
	loc.HooksDir = filepath.Clean(filepath.FromSlash(lines[1]))
	loc.HookPath = filepath.Join(loc.HooksDir, "pre-commit")
	// core.hooksPath is only information here (git-path hooks already
	// honours it); exit 1 just means "not set".
	if hp, err := run(ctx, env, repo, gitTimeout, "git", "config", "--get", "core.hooksPath"); err == nil {
		loc.HooksPathConfig = strings.TrimSpace(string(hp))
	}
	return loc, nil
}

func gitError(err error, repo, command string) error {
	if errors.Is(err, errNotFound) {
		return exitcode.New(exitcode.Environment, step.WithFix(
			fmt.Errorf("git is not installed or not on PATH"),
			"install git (https://git-scm.com/downloads), then run `cdb-setup "+command+"` again"))
	}
	var ce *cmdError
	if errors.As(err, &ce) && strings.Contains(strings.ToLower(ce.Stderr), "not a git repository") {
		return exitcode.New(exitcode.Environment, step.WithFix(
			fmt.Errorf("%s is not inside a git repository", repo),
			"run cdb-setup in your CDB clone, or pass --repo DIR"))
	}
	return exitcode.New(exitcode.Environment, fmt.Errorf("ask git about %s: %w", repo, err))
}
