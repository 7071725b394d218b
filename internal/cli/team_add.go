package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/claire-de-binare/cdb-setup/internal/exitcode"
	"github.com/claire-de-binare/cdb-setup/internal/platform"
	"github.com/claire-de-binare/cdb-setup/internal/team"
)

// TeamAddOptions are the inputs of `cdb-setup team add`.
type TeamAddOptions struct {
	F *Factory
	// Key is a .pub file, or the public key line itself.
	Key  string
	Name string
}

// NewCmdTeamAdd builds `cdb-setup team add`.
func NewCmdTeamAdd(f *Factory, runF func(*TeamAddOptions) error) *cobra.Command {
	opts := &TeamAddOptions{F: f}
	cmd := &cobra.Command{
		Use:   "add PUBKEY",
		Short: "List a public key as a recipient (a .pub file, or the key line)",
		Long: `Adds a public key to the recipients file: the path of a .pub file
(ssh-ed25519 or ssh-rsa), or the key line itself in quotes (a teammate sends
you theirs), or an age public key (age1...) with --name. The key's comment
names it unless --name is given.

Adding lists the key; it can open the secrets once someone who can open them
runs ` + "`cdb-setup team seal`" + ` and commits the sealed file.`,
		Example: `  cdb-setup team add ~/.ssh/id_ed25519.pub
  cdb-setup team add 'ssh-ed25519 AAAAC3Nza... carol@laptop'
  cdb-setup team add age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p --name ci`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			// An unquoted key line arrives as several words.
			opts.Key = strings.Join(args, " ")
			if runF != nil {
				return runF(opts)
			}
			return teamAddRun(opts)
		},
	}
	cmd.Flags().StringVar(&opts.Name, "name", "", "whose key it is (default: the key's comment)")
	return cmd
}

func teamAddRun(opts *TeamAddOptions) error {
	f := opts.F
	tc, err := loadTeam(f)
	if err != nil {
		return err
	}
	r, err := readPublicKey(tc, opts.Key, opts.Name)
	if err != nil {
		return err
	}
	file, err := platform.ReadFileCapped(tc.RecipientsPath, 1<<20)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return exitcode.New(exitcode.Failed, fmt.Errorf("read %s: %w", tc.RecipientsRel, err))
	}
	out, err := team.AddRecipient(file, r)
	var al team.ErrAlreadyListed
	if errors.As(err, &al) {
		fmt.Fprintf(f.IO.ErrOut, "Already done: %s (%s) is a recipient as %s.\n", r.Fingerprint, r.Type, al.Name)
		f.setData(map[string]any{"added": false, "recipient": r})
		return nil
	}
	if err != nil {
		return exitcode.New(exitcode.Failed, fmt.Errorf("%s: %w", tc.RecipientsRel, err))
	}
	if f.Global.DryRun {
		fmt.Fprintf(f.IO.ErrOut, "Would add %s (%s %s) to %s.\n", r.Name, r.Type, r.Fingerprint, tc.RecipientsRel)
		return nil
	}
	if err := writeCommitted(tc.RecipientsPath, out); err != nil {
		return exitcode.New(exitcode.Failed, fmt.Errorf("write %s: %w", tc.RecipientsRel, err))
	}
	f.setData(map[string]any{"added": true, "recipient": r})
	fmt.Fprintf(f.IO.ErrOut, "Added %s (%s %s) to %s.\n", r.Name, r.Type, r.Fingerprint, tc.RecipientsRel)
	if _, err := os.Stat(tc.SealedPath); err == nil {
		fmt.Fprintf(f.IO.ErrOut, "%s cannot open %s until it is sealed again: run `cdb-setup team seal`, then commit both files.\n", r.Name, tc.SealedRel)
	} else {
		fmt.Fprintln(f.IO.ErrOut, "Next: `cdb-setup team seal`, then commit both files.")
	}
	return nil
}

// looksLikeKey is true for a public key line rather than a path.
func looksLikeKey(s string) bool {
	s = strings.TrimSpace(s)
	return strings.HasPrefix(s, "ssh-") || strings.HasPrefix(s, "age1") || strings.HasPrefix(s, "ecdsa-") || strings.HasPrefix(s, "sk-")
}

func splitFields(s string) []string { return strings.Fields(firstKeyLine(s)) }

// firstKeyLine is the first non-empty, non-comment line of a .pub file.
func firstKeyLine(s string) string {
	for _, l := range strings.Split(s, "\n") {
		l = strings.TrimSpace(l)
		if l != "" && !strings.HasPrefix(l, "#") {
			return l
		}
	}
	return strings.TrimSpace(s)
}
