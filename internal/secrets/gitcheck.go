package secrets

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// ErrInWorktree means the secrets folder is inside the repository's work
// tree and git does not ignore it: one `git add .` and the passwords are
// committed (it happened more than once, CDB_STACK.md trap 6).
var ErrInWorktree = errors.New("is inside the git work tree and not ignored")

// CheckNotInWorktree returns ErrInWorktree (with the fix) when dir lies
// inside repo and git would track files in it. It asks git itself
// (`check-ignore`), so every .gitignore, info/exclude and global excludes
// file counts.
func CheckNotInWorktree(ctx context.Context, repo, dir string) error {
	if repo == "" {
		return nil
	}
	rel, err := filepath.Rel(repo, dir)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) || filepath.IsAbs(rel) {
		return nil
	}
	fix := fmt.Sprintf("use a folder outside the repository (the default <Documents>/.secrets/.cdb), or add %s/ to .gitignore", filepath.ToSlash(rel))
	if rel == "." {
		return fmt.Errorf("secrets folder %s is the repository itself: %w; %s", dir, ErrInWorktree, fix)
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	// A file name inside the folder: check-ignore answers for paths, and a
	// folder pattern ("secrets/") matches its contents.
	probe := filepath.ToSlash(filepath.Join(rel, "REDIS_PASSWORD"))
	cmd := exec.CommandContext(ctx, "git", "-C", repo, "check-ignore", "-q", "--no-index", "--", probe)
	err = cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return nil // ignored
	case errors.As(err, &ee) && ee.ExitCode() == 1:
		return fmt.Errorf("secrets folder %s %w: %s", dir, ErrInWorktree, fix)
	case ctx.Err() != nil:
		return fmt.Errorf("git check-ignore timed out after 10s; cannot tell whether %s is ignored: %s", dir, fix)
	default:
		// Not a git repo, or git missing: nothing can be committed by git here.
		return nil
	}
}
