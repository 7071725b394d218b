package cli

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/claire-de-binare/cdb-setup/internal/exitcode"
	"github.com/claire-de-binare/cdb-setup/internal/team"
)

// TeamRemoveOptions are the inputs of `cdb-setup team remove`.
type TeamRemoveOptions struct {
	F *Factory
	// Who is a recipient's name, key or SHA256 fingerprint.
	Who      string
	Identity string
}

// NewCmdTeamRemove builds `cdb-setup team remove`.
func NewCmdTeamRemove(f *Factory, runF func(*TeamRemoveOptions) error) *cobra.Command {
	opts := &TeamRemoveOptions{F: f}
	cmd := &cobra.Command{
		Use:   "remove NAME",
		Short: "Drop a recipient and seal the secrets again for the others",
		Long: `Removes a recipient (by name as ` + "`cdb-setup team status`" + ` lists it, or by
SHA256 fingerprint) and re-encrypts the sealed file's content to the remaining
recipients, so a new copy of the file no longer opens with that key.

The removed person may still hold the old values (an old clone, their secrets
folder): change those credentials at their source and write the new values
with ` + "`cdb-setup secrets init --force --set NAME=@FILE`" + `, then seal again.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Who = args[0]
			if runF != nil {
				return runF(opts)
			}
			return teamRemoveRun(opts)
		},
	}
	cmd.Flags().StringVar(&opts.Identity, "identity", "", "private key `FILE` to open the sealed file with (default: $CDB_AGE_IDENTITY, ~/.ssh/id_ed25519, ~/.ssh/id_rsa)")
	return cmd
}

func teamRemoveRun(opts *TeamRemoveOptions) error {
	f := opts.F
	tc, err := loadTeam(f)
	if err != nil {
		return err
	}
	_, file, err := tc.recipients()
	if err != nil {
		return err
	}
	out, removed, err := team.RemoveRecipients(file, opts.Who)
	if err != nil {
		return exitcode.New(exitcode.Usage, err)
	}
	left, err := team.ParseRecipients(out)
	if err != nil {
		return exitcode.New(exitcode.Failed, err)
	}
	w := f.IO.ErrOut
	_, exists, err := tc.readSealed()
	if err != nil {
		return err
	}
	var resealed []byte
	var bundle team.Bundle
	if exists {
		if len(left) == 0 {
			return exitcode.New(exitcode.Failed, errors.New("this would remove the last recipient: nobody could open the sealed file; add the new owner's key first (`cdb-setup team add FILE`)"))
		}
		// Re-seal what the file holds (not this machine's folder): the
		// team's values stay the team's.
		bundle, err = openSealed(f, tc, opts.Identity)
		if err != nil {
			return err
		}
		if resealed, err = team.Seal(bundle, left); err != nil {
			return exitcode.New(exitcode.Failed, err)
		}
	}
	if f.Global.DryRun {
		fmt.Fprintf(w, "Would remove %s from %s and seal %s again for %s.\n", recipientNames(removed), tc.RecipientsRel, tc.SealedRel, recipientNames(left))
		return nil
	}
	unlock, err := lockUnlessDryRun(f, "cdb-setup team remove")
	if err != nil {
		return err
	}
	defer unlock()
	// The sealed file first: if writing the recipients file then failed,
	// the removed key already cannot open the new file.
	if resealed != nil {
		if err := writeCommitted(tc.SealedPath, resealed); err != nil {
			return exitcode.New(exitcode.Failed, fmt.Errorf("write %s: %w", tc.SealedRel, err))
		}
	}
	if err := writeCommitted(tc.RecipientsPath, out); err != nil {
		return exitcode.New(exitcode.Failed, fmt.Errorf("write %s: %w", tc.RecipientsRel, err))
	}
	f.setData(map[string]any{"removed": removed, "recipients": left, "resealed": resealed != nil})
	fmt.Fprintf(w, "✓ Removed %s from %s.\n", recipientNames(removed), tc.RecipientsRel)
	if resealed != nil {
		fmt.Fprintf(w, "✓ Sealed %s again for %s: the new file does not open with the removed key. Commit both files.\n", tc.SealedRel, recipientNames(left))
		fmt.Fprintf(w, "! %s may still hold the old values (an old clone of the repo, their secrets folder). Change them: an external credential at its source (exchange, SMTP provider), then `cdb-setup secrets init --force --set NAME=@FILE`; a generated password with `cdb-setup secrets rotate NAME`; then `cdb-setup team seal`. Sealed: %s.\n",
			recipientNames(removed), strings.Join(bundle.Names(), ", "))
	}
	return nil
}
