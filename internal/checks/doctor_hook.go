package checks

import (
	"context"
	"fmt"
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
	return []Check{
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
}
