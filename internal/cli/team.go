package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/claire-de-binare/cdb-setup/internal/exitcode"
	"github.com/claire-de-binare/cdb-setup/internal/platform"
	"github.com/claire-de-binare/cdb-setup/internal/step"
	"github.com/claire-de-binare/cdb-setup/internal/team"
	"github.com/claire-de-binare/cdb-setup/internal/workspace"
)

// NewCmdTeam builds the `cdb-setup team` group.
func NewCmdTeam(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "team",
		Short: "Share the team's secrets in the repo, sealed with age to each developer's SSH key",
		Long: `The shared credentials (exchange API keys, SMTP) travel in the repository as
one age-encrypted file, sealed to the public keys listed in a committed
recipients file: the SSH keys developers already have (ssh-ed25519, ssh-rsa)
or age keys. Nothing secret is in git in plain text, and there is no new key
to manage. Anyone listed opens it with cdb-setup or with the age CLI
(docs/team.md). The manifest's team: section names both files.`,
	}
	cmd.AddCommand(NewCmdTeamInit(f, nil), NewCmdTeamAdd(f, nil), NewCmdTeamRemove(f, nil),
		NewCmdTeamSeal(f, nil), NewCmdTeamOpen(f, nil), NewCmdTeamStatus(f, nil))
	return cmd
}

// teamContext is what every team command needs: the workspace and the two
// committed files.
type teamContext struct {
	*workspace.Workspace
	// SealedPath and RecipientsPath are absolute; the Rel forms are as the
	// manifest writes them (relative to the repo, forward slashes).
	SealedPath, RecipientsPath string
	SealedRel, RecipientsRel   string
}

func loadTeam(f *Factory) (*teamContext, error) {
	ws, err := f.repoWorkspace()
	if err != nil {
		return nil, err
	}
	t := ws.Manifest.Team
	tc := &teamContext{Workspace: ws, SealedRel: t.Sealed, RecipientsRel: t.Recipients}
	tc.SealedPath = filepath.Join(ws.Repo, filepath.FromSlash(t.Sealed))
	tc.RecipientsPath = filepath.Join(ws.Repo, filepath.FromSlash(t.Recipients))
	return tc, nil
}

// recipients reads the recipients file; missing is an error naming init.
func (tc *teamContext) recipients() ([]team.Recipient, []byte, error) {
	b, err := platform.ReadFileCapped(tc.RecipientsPath, 1<<20)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, exitcode.New(exitcode.Failed, step.WithFix(fmt.Errorf("there is no recipients file %s yet", tc.RecipientsRel),
			"start one with `cdb-setup team init`"))
	}
	if err != nil {
		return nil, nil, exitcode.New(exitcode.Failed, fmt.Errorf("read %s: %w", tc.RecipientsRel, err))
	}
	rs, err := team.ParseRecipients(b)
	if err != nil {
		return nil, nil, exitcode.New(exitcode.Failed, step.WithFix(fmt.Errorf("%s: %w", tc.RecipientsRel, err), step.FixOf(err)))
	}
	return rs, b, nil
}

// readSealed reads the sealed file; exists is false when there is none.
func (tc *teamContext) readSealed() (data []byte, exists bool, err error) {
	b, err := platform.ReadFileCapped(tc.SealedPath, 8<<20)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, true, exitcode.New(exitcode.Failed, fmt.Errorf("read %s: %w", tc.SealedRel, err))
	}
	return b, true, nil
}

// writeCommitted writes a committed team file atomically (0644: it holds
// nothing secret, and git records no other mode).
func writeCommitted(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return platform.WriteFileAtomic(path, data, 0o644)
}

// identities are the keys to open with: --identity, CDB_AGE_IDENTITY, or
// ~/.ssh/id_ed25519 and ~/.ssh/id_rsa.
func teamIdentities(f *Factory, tc *teamContext, given string) ([]*team.Identity, error) {
	if given != "" {
		p, err := workspace.ExpandPath(given, tc.Facts.Home)
		if err != nil {
			return nil, exitcode.Usagef("--identity %s: %v", given, err)
		}
		given = p
	}
	ids, err := team.FindIdentities(given, f.Env, tc.Facts.Home)
	if err != nil {
		return nil, exitcode.New(exitcode.Failed, err)
	}
	return ids, nil
}

// askPassphrase asks for an SSH key's passphrase on the terminal, masked.
func askPassphrase(f *Factory) team.Passphrase {
	return func(source string) ([]byte, error) {
		in, ok := f.IO.In.(*os.File)
		if !f.CanPrompt() || !ok || !term.IsTerminal(int(in.Fd())) {
			return nil, team.ErrNoTerminal
		}
		fmt.Fprintf(f.IO.ErrOut, "Passphrase for %s (not shown): ", source)
		saved, _ := term.GetState(int(in.Fd()))
		b, err := platform.ReadContext(f.ctx(), func() ([]byte, error) { return term.ReadPassword(int(in.Fd())) })
		fmt.Fprintln(f.IO.ErrOut)
		if f.ctx().Err() != nil {
			if saved != nil {
				_ = term.Restore(int(in.Fd()), saved)
			}
			return nil, SilentError(exitcode.Interrupted)
		}
		return b, err
	}
}

// openSealed decrypts the sealed file with the user's identities, turning
// every way it can fail into an error that names the fix.
func openSealed(f *Factory, tc *teamContext, identity string) (team.Bundle, error) {
	sealed, exists, err := tc.readSealed()
	if err != nil {
		return nil, err
	}
	if !exists {
		return nil, exitcode.New(exitcode.Failed, step.WithFix(fmt.Errorf("there is no sealed file %s yet", tc.SealedRel),
			"a recipient seals the secrets with `cdb-setup team seal` and commits the file"))
	}
	ids, err := teamIdentities(f, tc, identity)
	if err != nil {
		return nil, err
	}
	rs, _, rerr := tc.recipients()
	b, err := team.Open(sealed, ids, askPassphrase(f))
	if err == nil {
		return b, nil
	}
	if code := exitcode.From(err); code == exitcode.Interrupted {
		return nil, err
	}
	var se *team.SealedError
	if !errors.As(err, &se) {
		return nil, exitcode.New(exitcode.Failed, err)
	}
	switch se.Kind {
	case team.Tampered, team.Truncated, team.Damaged:
		return nil, exitcode.New(exitcode.Failed, step.WithFix(fmt.Errorf("%s: %w; nothing was written", tc.SealedRel, err),
			fmt.Sprintf("restore the committed file (git checkout -- %s), or ask a recipient to seal it again with `cdb-setup team seal`", tc.SealedRel)))
	case team.BadKey:
		return nil, exitcode.New(exitcode.Failed, step.WithFix(err, "run the command again and type that key's passphrase (ssh-keygen -y -f KEY checks it)"))
	}
	// Not for you: say whose it is and what to send them.
	return nil, exitcode.New(exitcode.Failed, notListedError(tc, ids, rs, rerr, sealed))
}

// notListedError says that none of the user's keys opens the sealed file,
// who can add one, and the exact command to send them.
func notListedError(tc *teamContext, ids []*team.Identity, rs []team.Recipient, rerr error, sealed []byte) error {
	var tried []string
	for _, id := range ids {
		tried = append(tried, id.Source)
	}
	what := "tried " + strings.Join(team.DefaultIdentityPaths(tc.Facts.Home), ", ") + " and " + team.IdentityEnv + "; --identity FILE names another"
	if len(tried) > 0 {
		what = "none of your keys (" + strings.Join(tried, ", ") + ") is among its recipients"
	}
	who := "a teammate who can open it"
	if h, err := team.ReadHeader(sealed); err == nil && rerr == nil {
		known, _ := h.SealedFor(rs)
		if len(known) > 0 {
			var n []string
			for _, r := range known {
				n = append(n, r.Name)
			}
			who = strings.Join(n, " or ")
		}
	}
	msg := fmt.Errorf("%s is sealed for other keys: %s", tc.SealedRel, what)
	if len(tried) == 0 {
		msg = fmt.Errorf("no key of yours was found to open %s: %s", tc.SealedRel, what)
	}
	return step.WithFix(msg, sendToRecipients(tc, ids, who))
}

// sendToRecipients is the fix of "not listed": the command a recipient
// runs with the user's public key.
func sendToRecipients(tc *teamContext, ids []*team.Identity, who string) string {
	if len(ids) > 0 && len(ids[0].Public) > 0 {
		p := ids[0].Public[0]
		return fmt.Sprintf("ask %s to run `cdb-setup team add '%s'`, then `cdb-setup team seal`, and to commit both files; then pull and run `cdb-setup team open`", who, p.Key+" "+userName(tc))
	}
	return fmt.Sprintf("make a key (ssh-keygen -t ed25519), then ask %s to run `cdb-setup team add '<the line of ~/.ssh/id_ed25519.pub>'` and `cdb-setup team seal`", who)
}

// userName names the user's key in the recipients file.
func userName(tc *teamContext) string {
	if u := filepath.Base(tc.Facts.Home); u != "" && u != "." && u != string(filepath.Separator) {
		return u
	}
	return "me"
}

func recipientNames(rs []team.Recipient) string {
	var n []string
	for _, r := range rs {
		n = append(n, r.Name)
	}
	return strings.Join(n, ", ")
}
