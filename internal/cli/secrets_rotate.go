package cli

import (
	"fmt"
	"strings"

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
		// Main prints it with its fix.
		f.report(step.Report{Results: []step.Result{step.Failed("secrets.rotate."+opts.Name, err, step.FixOf(err))}})
		return exitcode.New(exitcode.Failed, err)
	}
	unlock, err := lockUnlessDryRun(f, "cdb-setup secrets rotate")
	if err != nil {
		return err
	}
	defer unlock()
	err = runSecretSteps(f, steps, false)
	if !f.Global.DryRun {
		// The files are the truth; a stale keychain copy would restore the
		// old password after a wipe. Update it even after a partial run.
		var names []string
		for _, s := range steps {
			if ss, ok := s.(*secrets.SecretStep); ok {
				names = append(names, ss.Secret.Name)
			}
		}
		mirrorAfterRotate(f, sc, names)
	}
	return err
}

// mirrorAfterRotate copies the rotated values into the keychain mirror, if
// this folder has one (none: nothing happens, nothing is said).
func mirrorAfterRotate(f *Factory, sc *secretsContext, names []string) {
	w := f.IO.ErrOut
	updated, err := secretsMirror(sc).MirrorUpdate(f.ctx(), names...)
	switch {
	case err == nil && updated:
		fmt.Fprintf(w, "✓ keychain mirror updated: %s\n", strings.Join(names, ", "))
	case err == nil:
	case secrets.KeychainUnavailable(err):
		fmt.Fprintf(w, "! the keychain could not be checked for a mirror of %s (%s)\n", sc.SecretsDir, oneLine(err))
		fmt.Fprintln(w, "  if you mirrored these secrets, the keychain copy is now stale and `keychain pull` or `secrets init` would restore the OLD password; run `cdb-setup keychain push` where the keychain is reachable")
	default:
		fmt.Fprintf(w, "! WARNING: the keychain mirror was NOT updated (%s)\n", oneLine(err))
		fmt.Fprintf(w, "  the keychain still holds the OLD value of %s: a restore (`keychain pull`, `secrets init` after a wipe) would bring the old password back\n", strings.Join(names, ", "))
		fmt.Fprintln(w, "  fix: cdb-setup keychain push")
	}
}
