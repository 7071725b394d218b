package secrets

import (
	"fmt"

	"github.com/claire-de-binare/cdb-setup/internal/manifest"
	"github.com/claire-de-binare/cdb-setup/internal/step"
)

// FixSteps repair what `check` reports as fixable, each change after a
// backup: the folder's permissions, byte problems (CRLF, BOM, UTF-16,
// whitespace), file permissions, an empty folder where a file should be, a
// missing generated or optional secret, and a derived value that no longer
// matches its inputs. A changed POSTGRES_PASSWORD or GRAFANA_PASSWORD comes
// with the warning that the service's volume keeps the old one.
func FixSteps(o Options) ([]step.Step, error) {
	if o.Catalogue == nil {
		return nil, fmt.Errorf("no secret catalogue")
	}
	steps := []step.Step{&FolderStep{Dir: o.dir(), Repo: o.Repo, StateDir: o.StateDir, Reach: o.Reach}}
	for _, s := range o.Catalogue.Secrets {
		st := initStep(s, InitOptions{Options: o})
		st.id = "secrets.fix." + s.Name
		st.Repair = true
		st.Warn = volumeWarning(o.Project, s)
		if s.Policy.Kind == manifest.KindDerived {
			st.Overwrite = true
		}
		steps = append(steps, st)
	}
	return steps, nil
}
