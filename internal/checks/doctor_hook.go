package checks

import (
	"context"
	"fmt"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/claire-de-binare/cdb-setup/internal/hook"
)

// hookChecks: whether commits in this clone are scanned, and whether the
// scanner is there and new enough. Secrets were committed to this project
// more than once.
func hookChecks(e Env) []Check {
	var st hook.Status
	var err error
	inspected := false
	inspect := func(ctx context.Context) {
		if !inspected {
			st, err = hook.Inspect(ctx, hook.Options{Repo: e.Repo, Env: e.Env, GOOS: runtime.GOOS})
			inspected = true
		}
	}
	install := strings.Join(hook.InstallCommands(e.Facts.OS, e.Env), "  or  ")
	cs := []Check{
		check("hook", "gitleaks pre-commit hook", func(ctx context.Context) Result {
			if e.Repo == "" {
				return skip("no repository")
			}
			inspect(ctx)
			switch {
			case err != nil:
				return fail(err.Error(), "cdb-setup hook status (for details)")
			case !st.Protected:
				return warn("commits in this clone are not scanned for secrets ("+st.Mode+")", "cdb-setup hook install")
			case st.Mode == "native" && !st.HookCurrent:
				return warn(fmt.Sprintf("cdb-setup's hook is an older version (%d)", st.HookVersion), "cdb-setup hook install (updates it)")
			}
			return ok("commits are scanned (" + st.Mode + ")")
		}),
		check("gitleaks", "gitleaks", func(ctx context.Context) Result {
			if e.Repo == "" {
				return skip("no repository")
			}
			inspect(ctx)
			g := st.Gitleaks
			switch {
			case err != nil:
				return skip("see the hook line")
			case !g.Found:
				return warn("not installed: the hook cannot scan commits", install+"  or  cdb-setup hook install --install-gitleaks")
			case g.TooOld():
				return warn(fmt.Sprintf("%s at %s is too old (v8 needed)", g.Version, g.Path), hook.InstallCommands(e.Facts.OS, e.Env)[0])
			case g.Deprecated():
				return warn(fmt.Sprintf("%s at %s is older than 8.19 (the hook falls back to the deprecated `protect`)", g.Version, g.Path), hook.InstallCommands(e.Facts.OS, e.Env)[0])
			}
			return ok(fmt.Sprintf("%s at %s", g.Version, g.Path))
		}),
	}
	// Both read the one inspection the first one makes.
	cs[1].Needs = cs[0].ID
	return cs
}

// secretsGitCheck: no git work tree around the secrets folder (the clone, a
// superproject, a dotfiles repository in $HOME) would let `git add` take
// the files. A git that cannot answer is a warning ("cannot tell").
func secretsGitCheck(e Env) Check {
	return check("secrets-git", "Secrets folder out of git's reach", func(ctx context.Context) Result {
		if e.SecretsDir == "" {
			return skip("no secrets folder")
		}
		r := hook.CheckSecretsReach(ctx, e.Env, e.SecretsDir)
		if s := r.AtRisk(); s != nil {
			gi := filepath.Join(s.Top, ".gitignore")
			switch {
			case s.GitignoreLine == "":
				return fail(fmt.Sprintf("%s is the git work tree %s itself", e.SecretsDir, s.Top), "move the secrets to a folder outside every git work tree and pass --secrets-path")
			case s.Tracked:
				return fail(fmt.Sprintf("git in %s already tracks files in %s", s.Top, e.SecretsDir),
					fmt.Sprintf("add this line to %s: %s, run `git -C %s rm -r --cached %s`, and rotate the committed secrets", gi, s.GitignoreLine, e.q(s.Top), s.GitignoreLine[1:]))
			}
			return fail(fmt.Sprintf("%s is inside the git work tree %s, which does not ignore it: `git add -A` there would commit your passwords", e.SecretsDir, s.Top),
				fmt.Sprintf("add this line to %s: %s", gi, s.GitignoreLine))
		}
		if len(r.Unknown) > 0 {
			return warn(strings.Join(r.Unknown, "; "), "run `git status` in the folders above the secrets folder and fix what git reports")
		}
		if len(r.Trees) == 0 {
			return ok(e.SecretsDir + " is in no git work tree")
		}
		return ok(fmt.Sprintf("%s is ignored by git in every work tree around it (%d)", e.SecretsDir, len(r.Trees)))
	})
}
