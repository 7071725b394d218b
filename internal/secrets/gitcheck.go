package secrets

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"

	"github.com/claire-de-binare/cdb-setup/internal/hook"
	"github.com/claire-de-binare/cdb-setup/internal/platform"
)

// ErrInWorktree means the secrets folder is inside the repository's work
// tree and git does not ignore it: one `git add .` and the passwords are
// committed (it happened more than once).
var ErrInWorktree = errors.New("is inside the git work tree and not ignored")

// CheckNotInWorktree returns ErrInWorktree (with the fix) when git could
// pick up files in dir from any work tree that encloses it: the clone
// (repo), a superproject, a dotfiles repository in $HOME. The question is
// the hook package's (hook.CheckSecretsReach): it asks git itself
// (`check-ignore`, so every .gitignore, info/exclude and global excludes
// file counts), resolves symlinks and also catches files git already
// tracks there. warnings say what could not be asked (git missing or
// failing): "cannot tell", which callers show, never "fine".
func CheckNotInWorktree(ctx context.Context, repo, dir string) (warnings []string, err error) {
	_ = repo // the walk from dir finds the clone too when dir is inside it
	r := hook.CheckSecretsReach(ctx, platform.OSEnvironment{}, dir)
	s := r.AtRisk()
	if s == nil {
		return r.Unknown, nil
	}
	gi := filepath.Join(s.Top, ".gitignore")
	if s.GitignoreLine == "" {
		return r.Unknown, fmt.Errorf("secrets folder %s is the git work tree %s itself: %w; use a folder outside every git work tree (the default <Documents>/.secrets/.cdb)", dir, s.Top, ErrInWorktree)
	}
	fix := fmt.Sprintf("add this line to %s: %s (or use a folder outside every git work tree)", gi, s.GitignoreLine)
	if s.Tracked {
		return r.Unknown, fmt.Errorf("secrets folder %s %w (work tree %s; git already tracks files in it): %s, then run `git -C %s rm --cached -r %s`", dir, ErrInWorktree, s.Top, fix, s.Top, s.GitignoreLine[1:])
	}
	return r.Unknown, fmt.Errorf("secrets folder %s %w (work tree %s): %s", dir, ErrInWorktree, s.Top, fix)
}

// GitReach keeps CheckNotInWorktree's answer for the length of one command:
// its preflight, the folder step's plan and its apply all ask the same
// question about the same folder, and each answer is a git process (or
// several). A nil GitReach asks git every time.
type GitReach struct {
	mu      sync.Mutex
	answers map[string]gitAnswer
}

type gitAnswer struct {
	warnings []string
	err      error
}

// Check is CheckNotInWorktree, asked once per folder.
func (g *GitReach) Check(ctx context.Context, repo, dir string) ([]string, error) {
	if g == nil {
		return CheckNotInWorktree(ctx, repo, dir)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if a, ok := g.answers[dir]; ok {
		return a.warnings, a.err
	}
	w, err := CheckNotInWorktree(ctx, repo, dir)
	if ctx.Err() == nil { // an interrupted git said nothing about the folder
		if g.answers == nil {
			g.answers = map[string]gitAnswer{}
		}
		g.answers[dir] = gitAnswer{w, err}
	}
	return w, err
}
