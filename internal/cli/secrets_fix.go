package cli

import (
	"github.com/spf13/cobra"

	"github.com/claire-de-binare/cdb-setup/internal/checks"
	"github.com/claire-de-binare/cdb-setup/internal/exitcode"
	"github.com/claire-de-binare/cdb-setup/internal/platform"
	"github.com/claire-de-binare/cdb-setup/internal/secrets"
)

// SecretsFixOptions are the inputs of `cdb-setup secrets fix`.
type SecretsFixOptions struct {
	F         *Factory
	Selection SelectionFlags
}

// NewCmdSecretsFix builds `cdb-setup secrets fix`.
func NewCmdSecretsFix(f *Factory, runF func(*SecretsFixOptions) error) *cobra.Command {
	opts := &SecretsFixOptions{F: f}
	cmd := &cobra.Command{
		Use:   "fix",
		Short: "Repair what check finds (CRLF, BOM, UTF-16, whitespace, permissions, stale DSN), with backups",
		Long: `Repair every fixable problem ` + "`cdb-setup secrets check`" + ` reports. Every changed file's
old content is first copied to <SECRETS_PATH>/.backup/<NAME>.<UTC time> (0600).
Missing generated and optional secrets are created as init would.

A repaired POSTGRES_PASSWORD or GRAFANA_PASSWORD is a changed password: a
service that already initialised its volume keeps the old one (the output says
what to do).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(opts)
			}
			return secretsFixRun(opts)
		},
	}
	opts.Selection.register(cmd)
	return cmd
}

func secretsFixRun(opts *SecretsFixOptions) error {
	f := opts.F
	sc, err := loadSecrets(f, opts.Selection)
	if err != nil {
		return err
	}
	if err := preflight(f, sc); err != nil {
		return err
	}
	steps, err := secrets.FixSteps(sc.Options)
	if err != nil {
		return exitcode.New(exitcode.Failed, err)
	}
	// Temp files of killed runs; removed under the lock taken below.
	stateDir, _ := f.StateDir()
	steps = append(steps, &platform.LeftoversStep{Dirs: checks.LeftoverDirs(sc.SecretsDir, stateDir, f.Env)})
	unlock, err := lockUnlessDryRun(f, "cdb-setup secrets fix")
	if err != nil {
		return err
	}
	defer unlock()
	return runSecretSteps(f, steps, true)
}
