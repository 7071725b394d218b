package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/claire-de-binare/cdb-setup/internal/exitcode"
	"github.com/claire-de-binare/cdb-setup/internal/secrets"
	"github.com/claire-de-binare/cdb-setup/internal/step"
)

// SecretsRotateOptions are the inputs of `cdb-setup secrets rotate`.
type SecretsRotateOptions struct {
	F           *Factory
	Selection   SelectionFlags
	Name        string
	ForceVolume bool
}

// NewCmdSecretsRotate builds `cdb-setup secrets rotate NAME`.
func NewCmdSecretsRotate(f *Factory, runF func(*SecretsRotateOptions) error) *cobra.Command {
	opts := &SecretsRotateOptions{F: f}
	cmd := &cobra.Command{
		Use:   "rotate NAME",
		Short: "Replace a generated secret with a new value (old one backed up) and re-derive the DSN",
		Long: `Generate a new value for NAME, back up the old one first, and re-derive every
secret made from it (POSTGRES_PASSWORD → POSTGRES_PASSWORD_DSN).

POSTGRES_PASSWORD and GRAFANA_PASSWORD are also kept in their Docker volumes
once the service has started; rotating them locks the service out until the
volume is wiped or the password changed inside the service. rotate stops and
explains this unless you pass --force-volume.`,
		Example: `  cdb-setup secrets rotate REDIS_PASSWORD
  cdb-setup secrets rotate POSTGRES_PASSWORD --force-volume`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Name = args[0]
			if runF != nil {
				return runF(opts)
			}
			return secretsRotateRun(opts)
		},
	}
	opts.Selection.register(cmd)
	cmd.Flags().BoolVar(&opts.ForceVolume, "force-volume", false, "rotate even though a Docker volume keeps the old password")
	return cmd
}

func secretsRotateRun(opts *SecretsRotateOptions) error {
	f := opts.F
	sc, err := loadSecrets(f, opts.Selection)
	if err != nil {
		return err
	}
	if err := preflight(f, sc); err != nil {
		return err
	}
	steps, err := secrets.RotateSteps(secrets.RotateOptions{Options: sc.Options, Name: opts.Name, ForceVolume: opts.ForceVolume})
	if err != nil {
		fmt.Fprintf(f.IO.ErrOut, "✗ %s\n", err)
		if fix := step.FixOf(err); fix != "" {
			fmt.Fprintf(f.IO.ErrOut, "  fix: %s\n", fix)
		}
		if f.Global.JSON {
			_ = writeJSON(f.IO.Out, step.Report{Results: []step.Result{step.Failed("secrets.rotate."+opts.Name, err, step.FixOf(err))}})
		}
		return SilentError(exitcode.Failed)
	}
	unlock, err := lockUnlessDryRun(f, "cdb-setup secrets rotate")
	if err != nil {
		return err
	}
	defer unlock()
	return runSecretSteps(f, steps, false)
}
