package hook

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"

	"github.com/claire-de-binare/cdb-setup/internal/platform"
)

// SecretsFolder says whether git could pick up the secrets folder.
type SecretsFolder struct {
	Path string `json:"path"`
	// Top is the work tree asked about.
	Top string `json:"work_tree,omitempty"`
	// Inside is true when the folder is inside the work tree.
	Inside bool `json:"inside_work_tree"`
	// Ignored is true when git ignores the files in it.
	Ignored bool `json:"ignored"`
	// Tracked is true when git already tracks files there (committed or staged).
	Tracked bool `json:"tracked"`
	// GitignoreLine is the line that makes git ignore it ("/.secrets/").
	GitignoreLine string `json:"gitignore_line,omitempty"`
	// Hidden is true when an inner work tree (a nested clone) holds the
	// folder: git stops at a nested repository and never adds its files,
	// so only files this tree already tracks are a risk.
	Hidden bool `json:"hidden_by_inner_work_tree,omitempty"`
}

// At risk is true when a `git add .` could commit the secrets.
func (s SecretsFolder) AtRisk() bool {
	return s.Inside && (s.Tracked || !s.Ignored && !s.Hidden)
}

// CheckSecretsFolder asks git whether secretsPath is inside top's work tree
// and ignored. A generated password alone is a random string gitleaks does
// not flag, so .gitignore is the real protection for the files themselves.
func CheckSecretsFolder(ctx context.Context, env platform.Environment, top, secretsPath string) (SecretsFolder, error) {
	s := SecretsFolder{Path: secretsPath, Top: top}
	sp := resolve(secretsPath)
	t := resolve(top)
	rel, err := filepath.Rel(t, sp)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return s, nil
	}
	s.Inside = true
	relSlash := filepath.ToSlash(rel)
	if rel == "." {
		// The secrets folder is the work tree itself: nothing to ignore it by.
		return s, nil
	}
	s.GitignoreLine = "/" + relSlash + "/"
	for _, probe := range []string{relSlash + "/", path.Join(relSlash, "REDIS_PASSWORD")} {
		_, err := run(ctx, env, top, gitTimeout, "git", "check-ignore", "-q", "--no-index", "--", probe)
		if err == nil {
			s.Ignored = true
			break
		}
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 1 {
			return s, err
		}
	}
	out, err := run(ctx, env, top, gitTimeout, "git", "ls-files", "--", relSlash)
	if err != nil {
		return s, err
	}
	s.Tracked = strings.TrimSpace(string(out)) != ""
	return s, nil
}

// resolve makes p absolute and resolves symlinks in the part that exists.
func resolve(p string) string {
	abs, err := filepath.Abs(p)
	if err != nil {
		return filepath.Clean(p)
	}
	rest := ""
	cur := abs
	for {
		if r, err := filepath.EvalSymlinks(cur); err == nil {
			return filepath.Join(r, rest)
		}
		parent := filepath.Dir(cur)
		if parent == cur {
			return abs
		}
		rest = filepath.Join(filepath.Base(cur), rest)
		cur = parent
	}
}

// Reach is what git can see of a secrets folder from every work tree that
// encloses it: the clone's, a superproject's, a dotfiles repository in
// $HOME. Unknown lists what could not be asked: "cannot tell", never "fine".
type Reach struct {
	Trees   []SecretsFolder `json:"work_trees,omitempty"`
	Unknown []string        `json:"unknown,omitempty"`
}

// AtRisk returns the first enclosing work tree where `git add` could pick
// up the secrets, or nil.
func (r Reach) AtRisk() *SecretsFolder {
	for i := range r.Trees {
		if r.Trees[i].AtRisk() {
			return &r.Trees[i]
		}
	}
	return nil
}

// CheckSecretsReach asks git, from the secrets folder upwards, for every
// work tree enclosing secretsPath and whether each ignores it.
func CheckSecretsReach(ctx context.Context, env platform.Environment, secretsPath string) Reach {
	var r Reach
	tops, unknown := enclosingWorkTrees(ctx, env, secretsPath)
	r.Unknown = unknown
	for i, top := range tops {
		s, err := CheckSecretsFolder(ctx, env, top, secretsPath)
		if err != nil {
			r.Unknown = append(r.Unknown, fmt.Sprintf("cannot tell whether git in %s ignores the secrets folder %s: %v", top, secretsPath, err))
			continue
		}
		s.Hidden = i > 0
		r.Trees = append(r.Trees, s)
	}
	return r
}

// gitCouldFindRepo is false when git's discovery from dir must fail: no
// GIT_DIR or GIT_WORK_TREE points elsewhere and no folder from dir up to the
// root has a ".git" entry (a folder, or the file of a linked work tree or
// submodule). git then says "not a git repository" (or finds a bare one, with
// no work tree), so asking it, ~2 ms for every secrets command, is skipped.
func gitCouldFindRepo(env platform.Environment, dir string) bool {
	if env.Getenv("GIT_DIR") != "" || env.Getenv("GIT_WORK_TREE") != "" {
		return true
	}
	for {
		if _, err := os.Lstat(filepath.Join(dir, ".git")); !errors.Is(err, fs.ErrNotExist) {
			return true // there, or cannot tell: ask git
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return false
		}
		dir = parent
	}
}

// enclosingWorkTrees lists the work trees around p, innermost first: git
// answers for the nearest existing folder, then again from above each top.
func enclosingWorkTrees(ctx context.Context, env platform.Environment, p string) (tops, unknown []string) {
	start := resolve(p)
	for {
		if st, err := os.Stat(start); err == nil && st.IsDir() {
			break
		}
		parent := filepath.Dir(start)
		if parent == start {
			return nil, nil
		}
		start = parent
	}
	if !gitCouldFindRepo(env, start) {
		return nil, nil
	}
	for i := 0; i < 64; i++ {
		out, err := run(ctx, env, start, gitTimeout, "git", "rev-parse", "--show-toplevel")
		if err != nil {
			if errors.Is(err, errNotFound) {
				return tops, append(unknown, fmt.Sprintf("git is not installed, so cdb-setup cannot tell whether a git work tree encloses the secrets folder %s", p))
			}
			var ce *cmdError
			if errors.As(err, &ce) {
				msg := strings.ToLower(ce.Stderr)
				// Not in any work tree (git searched every parent), or
				// inside a .git folder, from which nothing is committed.
				if strings.Contains(msg, "not a git repository") || strings.Contains(msg, "must be run in a work tree") {
					return tops, unknown
				}
			}
			return tops, append(unknown, fmt.Sprintf("cannot tell whether a git work tree encloses the secrets folder %s (git in %s: %v)", p, start, err))
		}
		top := strings.TrimSpace(string(out))
		if top == "" {
			return tops, unknown
		}
		top = resolve(filepath.FromSlash(top))
		tops = append(tops, top)
		parent := filepath.Dir(top)
		if parent == top {
			return tops, unknown
		}
		start = parent
	}
	return tops, unknown
}
