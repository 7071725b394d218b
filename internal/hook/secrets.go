package hook

import (
	"context"
	"errors"
	"os/exec"
	"path"
	"path/filepath"
	"strings"

	"github.com/claire-de-binare/cdb-setup/internal/platform"
)

// SecretsFolder says whether git could pick up the secrets folder.
type SecretsFolder struct {
	Path string `json:"path"`
	// Inside is true when the folder is inside the work tree.
	Inside bool `json:"inside_work_tree"`
	// Ignored is true when git ignores the files in it.
	Ignored bool `json:"ignored"`
	// Tracked is true when git already tracks files there (committed or staged).
	Tracked bool `json:"tracked"`
	// GitignoreLine is the line that makes git ignore it ("/.secrets/").
	GitignoreLine string `json:"gitignore_line,omitempty"`
}

// At risk is true when a `git add .` could commit the secrets.
func (s SecretsFolder) AtRisk() bool { return s.Inside && (!s.Ignored || s.Tracked) }

// CheckSecretsFolder asks git whether secretsPath is inside top's work tree
// and ignored. A generated password alone is a random string gitleaks does
// not flag, so .gitignore is the real protection for the files themselves.
func CheckSecretsFolder(ctx context.Context, env platform.Environment, top, secretsPath string) (SecretsFolder, error) {
	s := SecretsFolder{Path: secretsPath}
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
