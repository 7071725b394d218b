package cli

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/claire-de-binare/cdb-setup/internal/secrets"
	"github.com/claire-de-binare/cdb-setup/internal/team"
)

// TeamStatusOptions are the inputs of `cdb-setup team status`.
type TeamStatusOptions struct {
	F        *Factory
	Identity string
}

// NewCmdTeamStatus builds `cdb-setup team status`.
func NewCmdTeamStatus(f *Factory, runF func(*TeamStatusOptions) error) *cobra.Command {
	opts := &TeamStatusOptions{F: f}
	cmd := &cobra.Command{
		Use:   "status",
		Short: "List the recipients, what is sealed, and whether your folder agrees",
		Long: `Lists the recipients and which of them the sealed file is sealed for (its
header says so without a key), then, when your key opens it, which secrets
are sealed and whether each file in your secrets folder holds the same value.
Values are compared by keyed fingerprint in memory; no value or hash is
printed. Without a usable key the comparison is "unknown".`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(opts)
			}
			return teamStatusRun(opts)
		},
	}
	cmd.Flags().StringVar(&opts.Identity, "identity", "", "private key `FILE` to open the sealed file with (default: $CDB_AGE_IDENTITY, ~/.ssh/id_ed25519, ~/.ssh/id_rsa)")
	return cmd
}

// TeamStatus is `team status` under --json (no values, no hashes).
type TeamStatus struct {
	RecipientsFile string           `json:"recipients_file"`
	SealedFile     string           `json:"sealed_file"`
	Recipients     []team.Recipient `json:"recipients"`
	Sealed         bool             `json:"sealed"`
	// SealedFor are the recipients the sealed file's header names;
	// NotSealedFor are listed but not in it (seal again); Unlisted counts
	// header recipients the file does not list (removed, or age keys,
	// whose stanzas name no key).
	SealedFor    []string `json:"sealed_for"`
	NotSealedFor []string `json:"not_sealed_for"`
	Unlisted     int      `json:"unlisted"`
	Anonymous    int      `json:"age_key_recipients"`
	// Secrets compares each sealed secret with the folder: same, differs,
	// missing (not in the folder); Opened is false when no key of yours
	// opened the file (then every comparison is unknown) and Why says why.
	Opened  bool              `json:"opened"`
	Why     string            `json:"why_unknown,omitempty"`
	Secrets map[string]string `json:"secrets"`
}

func teamStatusRun(opts *TeamStatusOptions) error {
	f := opts.F
	tc, err := loadTeam(f)
	if err != nil {
		return err
	}
	rs, _, err := tc.recipients()
	if err != nil {
		return err
	}
	st := TeamStatus{RecipientsFile: tc.RecipientsRel, SealedFile: tc.SealedRel, Recipients: rs, SealedFor: []string{}, NotSealedFor: []string{}, Secrets: map[string]string{}}
	w := f.reportOut() // a report: stdout (stderr under --json)
	sealed, exists, err := tc.readSealed()
	if err != nil {
		return err
	}
	st.Sealed = exists
	fmt.Fprintf(w, "Recipients (%s):\n", tc.RecipientsRel)
	if !exists {
		for _, r := range rs {
			fmt.Fprintf(w, "  • %-24s %s %s\n", r.Name, r.Type, r.Fingerprint)
		}
		fmt.Fprintf(w, "Nothing sealed yet (%s does not exist): `cdb-setup team seal` seals the external secrets.\n", tc.SealedRel)
		f.setData(st)
		return nil
	}
	h, herr := team.ReadHeader(sealed)
	in := map[string]bool{}
	if herr == nil {
		known, unknown := h.SealedFor(rs)
		for _, r := range known {
			in[r.Key] = true
			st.SealedFor = append(st.SealedFor, r.Name)
		}
		st.Unlisted, st.Anonymous = unknown, h.Anonymous
	}
	for _, r := range rs {
		mark := "✓ sealed for"
		switch {
		case herr != nil:
			mark = "? unknown"
		case r.Type == team.TypeAge:
			mark = "? age key (the header does not name age keys)"
		case !in[r.Key]:
			mark = "✗ not sealed for yet (`cdb-setup team seal`)"
			st.NotSealedFor = append(st.NotSealedFor, r.Name)
		}
		fmt.Fprintf(w, "  %-26s %s %s  %s\n", r.Name, r.Type, r.Fingerprint, mark)
	}
	if st.Unlisted > 0 {
		fmt.Fprintf(w, "  ! the sealed file is also sealed for %d SSH key(s) the recipients file no longer lists: run `cdb-setup team seal` to drop them\n", st.Unlisted)
	}
	if herr != nil {
		st.Why = herr.Error()
		fmt.Fprintf(w, "✗ %s: %v\n", tc.SealedRel, herr)
		f.setData(st)
		return nil
	}

	// The comparison needs the values: open in memory, never print them.
	bundle, err := openForStatus(f, tc, opts.Identity)
	if err != nil {
		st.Why = oneLine(err)
		fmt.Fprintf(w, "Sealed secrets: unknown (%s)\n", st.Why)
		f.setData(st)
		return nil
	}
	st.Opened = true
	ws := tc.Workspace
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	fp := func(v []byte) []byte {
		m := hmac.New(sha256.New, key)
		m.Write(v)
		return m.Sum(nil)
	}
	fmt.Fprintf(w, "Sealed secrets, compared with %s:\n", ws.SecretsDir)
	for _, n := range bundle.Names() {
		v, err := secrets.ReadSecret(filepath.Join(ws.SecretsDir, n))
		state, text := "same", "✓ same value as your file"
		switch {
		case errors.Is(err, fs.ErrNotExist) || (err == nil && len(v) == 0):
			state, text = "missing", "- not in your folder (`cdb-setup team open` writes it)"
		case err != nil:
			state, text = "unknown", "? "+oneLine(err)
		case !hmac.Equal(fp(v), fp(bundle[n])):
			state, text = "differs", "✗ differs (`cdb-setup team open --force` takes the team's, `cdb-setup team seal` shares yours)"
		}
		st.Secrets[n] = state
		fmt.Fprintf(w, "  %-24s %s\n", n, text)
	}
	f.setData(st)
	return nil
}

// openForStatus opens the sealed file when a key can, asking a passphrase
// only when it may.
func openForStatus(f *Factory, tc *teamContext, identity string) (team.Bundle, error) {
	return openSealed(f, tc, identity)
}
