package cli

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/claire-de-binare/cdb-setup/internal/exitcode"
	"github.com/claire-de-binare/cdb-setup/internal/team"
	"github.com/claire-de-binare/cdb-setup/internal/workspace"
)

// TeamInitOptions are the inputs of `cdb-setup team init`.
type TeamInitOptions struct {
	F *Factory
	// Key is the public key file to list first ("" = ~/.ssh/id_ed25519.pub,
	// else ~/.ssh/id_rsa.pub, when one exists).
	Key string
}

// NewCmdTeamInit builds `cdb-setup team init`.
func NewCmdTeamInit(f *Factory, runF func(*TeamInitOptions) error) *cobra.Command {
	opts := &TeamInitOptions{F: f}
	cmd := &cobra.Command{
		Use:   "init",
		Short: "Start the recipients file, listing your own public key",
		Long: `Creates the recipients file the manifest names (default
infrastructure/secrets/team-recipients.txt) with your public key
(~/.ssh/id_ed25519.pub, else ~/.ssh/id_rsa.pub, or --key FILE) as the first
recipient. An existing file is left as it is.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(opts)
			}
			return teamInitRun(opts)
		},
	}
	cmd.Flags().StringVar(&opts.Key, "key", "", "public key `FILE` to list first (default: ~/.ssh/id_ed25519.pub, else ~/.ssh/id_rsa.pub)")
	return cmd
}

func teamInitRun(opts *TeamInitOptions) error {
	f := opts.F
	tc, err := loadTeam(f)
	if err != nil {
		return err
	}
	w := f.IO.ErrOut
	if _, err := os.Lstat(tc.RecipientsPath); err == nil {
		rs, _, err := tc.recipients()
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "Already done: %s exists and lists %d recipient(s): %s.\n", tc.RecipientsRel, len(rs), recipientNames(rs))
		f.setData(map[string]any{"recipients_file": tc.RecipientsRel, "recipients": rs, "created": false})
		return nil
	}
	var first []team.Recipient
	key := opts.Key
	if key == "" {
		for _, p := range team.DefaultIdentityPaths(tc.Facts.Home) {
			if _, err := os.Stat(p + ".pub"); err == nil {
				key = p + ".pub"
				break
			}
		}
	}
	if key != "" {
		r, err := readPublicKey(tc, key, "")
		if err != nil {
			return err
		}
		first = append(first, r)
	}
	if f.Global.DryRun {
		fmt.Fprintf(w, "Would create %s listing %d recipient(s).\n", tc.RecipientsRel, len(first))
		return nil
	}
	if err := writeCommitted(tc.RecipientsPath, team.FormatRecipients(first)); err != nil {
		return exitcode.New(exitcode.Failed, fmt.Errorf("write %s: %w", tc.RecipientsRel, err))
	}
	f.setData(map[string]any{"recipients_file": tc.RecipientsRel, "recipients": first, "created": true})
	if len(first) == 0 {
		fmt.Fprintf(w, "Created %s with no recipient yet (no ~/.ssh/id_ed25519.pub or id_rsa.pub found).\n", tc.RecipientsRel)
		fmt.Fprintln(w, "Next: make a key (ssh-keygen -t ed25519), then `cdb-setup team add ~/.ssh/id_ed25519.pub`.")
		return nil
	}
	fmt.Fprintf(w, "Created %s listing %s (%s).\n", tc.RecipientsRel, first[0].Name, first[0].Fingerprint)
	fmt.Fprintln(w, "Next: `cdb-setup team seal` seals the external secrets of your secrets folder; commit both files.")
	return nil
}

// readPublicKey reads a public key from a .pub file, or takes arg as the
// key line itself; name, when given, replaces the comment.
func readPublicKey(tc *teamContext, arg, name string) (team.Recipient, error) {
	line := arg
	if p, err := expandHome(tc, arg); err == nil {
		if b, err := os.ReadFile(p); err == nil {
			line = string(b)
		} else if !looksLikeKey(arg) {
			return team.Recipient{}, exitcode.Usagef("read the public key %s: %v", arg, err)
		}
	}
	if name != "" {
		f := splitFields(line)
		if len(f) >= 2 {
			line = f[0] + " " + f[1] + " " + name
		} else if len(f) == 1 {
			line = f[0] + " " + name
		}
	}
	r, err := team.ParseRecipientLine(firstKeyLine(line))
	if err != nil {
		return team.Recipient{}, exitcode.Usagef("%v (pass a .pub file, or the key line in quotes; --name NAME names it)", err)
	}
	return r, nil
}

func expandHome(tc *teamContext, p string) (string, error) {
	if looksLikeKey(p) {
		return "", fmt.Errorf("a key, not a path")
	}
	return workspace.ExpandPath(p, tc.Facts.Home)
}
