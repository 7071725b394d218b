package cli

import (
	"context"
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
		Short: "Replace a generated secret with a new value, inside the running services too, keeping their data",
		Long: `Generate a new value for NAME and re-derive every secret made from it
(POSTGRES_PASSWORD → POSTGRES_PASSWORD_DSN).

On a running stack the password changes inside the services first: postgres
by ALTER ROLE with a SCRAM-SHA-256 verifier on the container's local socket
(never the plain password), Grafana through its CLI (password on stdin);
redis and every service that reads the secret only at start are recreated,
exactly those. Then the file is swapped (old value backed up) and a login
proves the new password. If a step fails, everything is undone: the old
password still works and the file still holds it.

With the stack stopped, only the file changes; for POSTGRES_PASSWORD and
GRAFANA_PASSWORD whose volume exists, rotate stops and asks you to start the
stack first (--force-volume writes the file anyway). See docs/recovery.md.`,
		Example: `  cdb-setup secrets rotate POSTGRES_PASSWORD
  cdb-setup secrets rotate REDIS_PASSWORD --dry-run`,
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
	cmd.Flags().BoolVar(&opts.ForceVolume, "force-volume", false, "with the stack stopped, write the file although a Docker volume keeps the old password (the service then refuses the new one)")
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
	steps, err := rotateSteps(f, sc, opts)
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
			if w, ok := s.(interface{ Unwrap() step.Step }); ok {
				s = w.Unwrap()
			}
			if ss, ok := s.(*secrets.SecretStep); ok {
				names = append(names, ss.Secret.Name)
			}
		}
		mirrorAfterRotate(f, sc, names)
	}
	return err
}

// rotateSteps chooses how to rotate: inside the running services when the
// stack runs (data kept, internal/rotate), only the file when nothing runs
// that reads it and no volume keeps it. A file-only rotation of a password a
// volume keeps is refused unless --force-volume: the service would refuse
// the new value.
func rotateSteps(f *Factory, sc *secretsContext, opts *SecretsRotateOptions) ([]step.Step, error) {
	// Validates the name and kind first (a derived or external secret).
	if _, err := secrets.RotateSteps(secrets.RotateOptions{Options: sc.Options, Name: opts.Name, InService: true}); err != nil {
		return nil, err
	}
	s, _ := sc.Catalogue.Get(opts.Name)
	lr, err := planLiveRotation(f, sc, opts, s)
	if err != nil {
		return nil, err
	}
	defer func() {
		if lr != nil && lr.Steps == nil {
			lr.close()
		}
	}()
	if lr.Steps != nil {
		return lr.Steps, nil
	}
	if s.Policy.Volume != "" && lr.VolumeExists && !opts.ForceVolume {
		return nil, step.WithFix(fmt.Errorf("%s is kept in the volume %s, and the stack is not running: a new value written only to the file would lock %s out", s.Name, sc.Project+"_"+s.Policy.Volume, strings.Join(servicesUsing(sc, s), ", ")),
			fmt.Sprintf("start the stack (`%s`), then run `cdb-setup secrets rotate %s` again: cdb-setup changes the password inside the service and keeps the data", rerunCommand(f, "up", nil), s.Name))
	}
	// No volume yet (or --force-volume, or no Engine to ask): the file only.
	return secrets.RotateSteps(secrets.RotateOptions{Options: sc.Options, Name: opts.Name, ForceVolume: opts.ForceVolume,
		InService: lr.Reachable && !lr.VolumeExists})
}

// servicesUsing names the services that read s, for messages.
func servicesUsing(sc *secretsContext, s secrets.Secret) []string {
	if len(s.Services) > 0 {
		return s.Services
	}
	return []string{"its service"}
}

// mirrorAfterRotate copies the rotated values into the keychain mirror, if
// this folder has one (none: nothing happens, nothing is said).
func mirrorAfterRotate(f *Factory, sc *secretsContext, names []string) {
	w := f.IO.ErrOut
	ctx := f.ctx()
	if ctx.Err() != nil {
		// Interrupted: the files that did change still need their mirror
		// updated (else a restore brings the old password back), and a
		// cancelled context would read as "keychain unreachable". Each
		// keychain call is bounded by the keychain's own timeout.
		ctx = context.WithoutCancel(ctx)
	}
	updated, err := secretsMirror(sc).MirrorUpdate(ctx, names...)
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
