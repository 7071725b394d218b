package secrets

import (
	"context"
	"errors"
	"fmt"

	"github.com/claire-de-binare/cdb-setup/internal/hook"
	"github.com/claire-de-binare/cdb-setup/internal/platform"
)

// ErrInWorktree means the secrets folder is inside the repository's work
// tree and git does not ignore it: one `git add .` and the passwords are
// committed (it happened more than once).
var ErrInWorktree = errors.New("is inside the git work tree and not ignored")

// CheckNotInWorktree returns ErrInWorktree (with the fix) when dir lies
// inside repo and git would track files in it. The question is the hook
// package's (hook.CheckSecretsFolder): it asks git itself (`check-ignore`,
// so every .gitignore, info/exclude and global excludes file counts),
// resolves symlinks and also catches files git already tracks there.
func CheckNotInWorktree(ctx context.Context, repo, dir string) error {
	if repo == "" {
		return nil
	}
	s, err := hook.CheckSecretsFolder(ctx, platform.OSEnvironment{}, repo, dir)
	if err != nil || !s.AtRisk() {
		// An error means git is missing or repo is no git repository:
		// then nothing can be committed by git here.
		return nil
	}
	if s.GitignoreLine == "" {
		return fmt.Errorf("secrets folder %s is the repository itself: %w; use a folder outside the repository (the default <Documents>/.secrets/.cdb)", dir, ErrInWorktree)
	}
	fix := fmt.Sprintf("use a folder outside the repository (the default <Documents>/.secrets/.cdb), or add %s to .gitignore", s.GitignoreLine)
	if s.Tracked {
		return fmt.Errorf("secrets folder %s %w (git already tracks files in it): %s, then `git rm --cached -r %s`", dir, ErrInWorktree, fix, s.GitignoreLine[1:])
	}
	return fmt.Errorf("secrets folder %s %w: %s", dir, ErrInWorktree, fix)
}
