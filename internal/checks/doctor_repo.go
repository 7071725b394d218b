package checks

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/claire-de-binare/cdb-setup/internal/manifest"
	"github.com/claire-de-binare/cdb-setup/internal/platform"
)

// repoCheck: the clone and its compose files are where the catalogue and
// every command start.
func repoCheck(e Env) Check {
	return check("repo", "Repository", func(context.Context) Result {
		if e.RepoErr != nil {
			return fail(e.RepoErr.Error(), "run cdb-setup doctor inside your CDB clone, or pass --repo DIR")
		}
		files, err := e.Manifest.ComposeFiles(manifestDefault(e))
		if err != nil {
			return fail(err.Error(), "fix "+filepath.Join(e.Repo, "cdb-setup.yaml"))
		}
		var missing []string
		for _, f := range files {
			if _, err := os.Stat(filepath.Join(e.Repo, filepath.FromSlash(f))); err != nil {
				missing = append(missing, f)
			}
		}
		if len(missing) == len(files) && len(files) > 0 && e.ManifestSource == manifest.BuiltInSource {
			// Not one file of the CDB layout: another repository, not a
			// damaged clone.
			return Result{Status: Fail, Missing: true,
				Detail: fmt.Sprintf("%s is not a CDB clone: none of its compose files is there (%s) and it has no cdb-setup.yaml", e.Repo, strings.Join(missing, ", ")),
				Fix:    "run cdb-setup inside your CDB clone, or pass --repo DIR (the folder of your CDB clone)"}
		}
		if len(missing) > 0 {
			return fail("compose files missing: "+strings.Join(missing, ", "),
				"check out the full repository (git status; git checkout -- "+strings.Join(missing, " ")+"), or fix cdb-setup.yaml")
		}
		return ok(fmt.Sprintf("%s (%d compose files of profile %s)", e.Repo, len(files), e.Manifest.DefaultProfile))
	})
}

// stateCheck: uninstall can only undo what the state file lists.
func stateCheck(e Env) Check {
	return check("state", "State file", func(context.Context) Result {
		st, err := platform.LoadState(e.StateDir)
		if err != nil {
			p := filepath.Join(e.StateDir, platform.StateFileName)
			detail, _, _ := strings.Cut(err.Error(), ": move it aside")
			return fail(detail, "move it aside ("+platform.MoveCommand(e.Facts.OS, p, p+".bad")+") and run cdb-setup again")
		}
		if _, err := os.Stat(st.Path()); errors.Is(err, os.ErrNotExist) {
			return ok("none yet (nothing set up by cdb-setup on this machine)")
		}
		return ok(fmt.Sprintf("%s (%d recorded changes)", st.Path(), len(st.Records)))
	})
}
