package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/claire-de-binare/cdb-setup/internal/exitcode"
	"github.com/claire-de-binare/cdb-setup/internal/manifest"
	"github.com/claire-de-binare/cdb-setup/internal/secrets"
	"github.com/claire-de-binare/cdb-setup/internal/step"
	"github.com/claire-de-binare/cdb-setup/internal/team"
)

// TeamOpenOptions are the inputs of `cdb-setup team open`.
type TeamOpenOptions struct {
	F *Factory
	// Identity is the private key file; "" tries CDB_AGE_IDENTITY, then
	// ~/.ssh/id_ed25519 and ~/.ssh/id_rsa.
	Identity string
	// Force replaces files holding other values (after a backup).
	Force bool
}

// NewCmdTeamOpen builds `cdb-setup team open`.
func NewCmdTeamOpen(f *Factory, runF func(*TeamOpenOptions) error) *cobra.Command {
	opts := &TeamOpenOptions{F: f}
	cmd := &cobra.Command{
		Use:   "open",
		Short: "Decrypt the sealed secrets into your secrets folder",
		Long: `Decrypts the sealed file with your key and writes each secret byte for byte
into your secrets folder, the way every secret is written (atomic, private
permissions, checked first). Nothing is written unless the whole file
decrypts and authenticates.

The key: --identity FILE (an age identity file or an SSH private key), else
the CDB_AGE_IDENTITY variable (CI), else ~/.ssh/id_ed25519 and ~/.ssh/id_rsa.
A key with a passphrase is asked for on the terminal; ssh-agent cannot be
used (age needs the private key itself, which an agent never hands out).

A file that already holds another value is kept unless --force, which backs
it up first.`,
		Example: `  cdb-setup team open
  cdb-setup team open --identity ~/.config/age/keys.txt
  CDB_AGE_IDENTITY="$AGE_KEY" cdb-setup team open --secrets-path "$RUNNER_TEMP/secrets"`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(opts)
			}
			return teamOpenRun(opts)
		},
	}
	cmd.Flags().StringVar(&opts.Identity, "identity", "", "private key `FILE`: an age identity file or an SSH key (default: $CDB_AGE_IDENTITY, ~/.ssh/id_ed25519, ~/.ssh/id_rsa)")
	cmd.Flags().BoolVar(&opts.Force, "force", false, "replace files holding other values (each old value is backed up first)")
	return cmd
}

func teamOpenRun(opts *TeamOpenOptions) error {
	f := opts.F
	tc, err := loadTeam(f)
	if err != nil {
		return err
	}
	sc, err := loadSecrets(f, SelectionFlags{})
	if err != nil {
		return err
	}
	bundle, err := openSealed(f, tc, opts.Identity)
	if err != nil {
		return err
	}
	steps, err := openSteps(sc, bundle, opts.Force)
	if err != nil {
		return err
	}
	if err := preflight(f, sc); err != nil {
		return err
	}
	unlock, err := lockUnlessDryRun(f, "cdb-setup team open")
	if err != nil {
		return err
	}
	defer unlock()
	f.setData(map[string]any{"sealed_file": tc.SealedRel, "secrets": bundle.Names()})
	fmt.Fprintf(f.IO.ErrOut, "Opened %s: %s.\n", tc.SealedRel, strings.Join(bundle.Names(), ", "))
	return runSecretSteps(f, steps, true)
}

// openSteps are the secret steps that write the opened values, through the
// same write path as every secret. Every value is checked before any step
// exists, so a bad value stops the whole open with nothing written.
func openSteps(sc *secretsContext, b team.Bundle, force bool) ([]step.Step, error) {
	steps := []step.Step{&secrets.FolderStep{Dir: sc.SecretsDir, Repo: sc.Repo, StateDir: sc.StateDir}}
	for _, name := range b.Names() {
		v := b[name]
		s, ok := sc.Catalogue.Get(name)
		if !ok {
			s = secrets.Secret{Name: name, Policy: manifest.Secret{Kind: manifest.KindExternal}}
		}
		if err := secrets.ValidateValue(v); err != nil {
			return nil, exitcode.New(exitcode.Failed, step.WithFix(fmt.Errorf("the sealed %s breaks the secret byte rules (%v); nothing was written", name, err),
				"ask whoever sealed it to repair it (`cdb-setup secrets fix`) and seal again (`cdb-setup team seal`)"))
		}
		if ps := secrets.Lint(name, v, s.Policy); secrets.HasErrors(ps) {
			return nil, exitcode.New(exitcode.Failed, step.WithFix(fmt.Errorf("the sealed %s is not a clean secret (%s); nothing was written", name, ps[0].Message),
				"ask whoever sealed it to repair it (`cdb-setup secrets fix`) and seal again (`cdb-setup team seal`)"))
		}
		steps = append(steps, &secrets.SecretStep{
			Secret: s, Dir: sc.SecretsDir, Mode: sc.Options.Mode,
			Value:     func() ([]byte, error) { return v, nil },
			How:       "from the team's sealed file",
			Accept:    func(existing []byte) bool { return string(existing) == string(v) },
			Overwrite: force,
			RefuseFix: "keep yours, or replace it with the team's value (yours is backed up first): `cdb-setup team open --force`",
		})
	}
	return steps, nil
}
