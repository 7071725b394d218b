package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/claire-de-binare/cdb-setup/internal/exitcode"
	"github.com/claire-de-binare/cdb-setup/internal/manifest"
	"github.com/claire-de-binare/cdb-setup/internal/secrets"
	"github.com/claire-de-binare/cdb-setup/internal/step"
	"github.com/claire-de-binare/cdb-setup/internal/team"
)

// TeamSealOptions are the inputs of `cdb-setup team seal`.
type TeamSealOptions struct {
	F *Factory
	// Names are the secrets to seal; none means every external secret.
	Names []string
}

// NewCmdTeamSeal builds `cdb-setup team seal`.
func NewCmdTeamSeal(f *Factory, runF func(*TeamSealOptions) error) *cobra.Command {
	opts := &TeamSealOptions{F: f}
	cmd := &cobra.Command{
		Use:   "seal [NAME...]",
		Short: "Encrypt the shared secrets from your secrets folder to every recipient",
		Long: `Reads the chosen secrets from your secrets folder (default: every external
secret of the manifest that has a value: exchange keys, SMTP) and writes them,
encrypted with age to every key of the recipients file, into the sealed file
the manifest names (default infrastructure/secrets/team-secrets.age). Commit
it. Generated passwords are per machine and are sealed only when named;
derived ones (the DSN) never: open derives them again.`,
		Example: `  cdb-setup team seal
  cdb-setup team seal MEXC_API_KEY.txt MEXC_API_SECRET.txt`,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Names = args
			if runF != nil {
				return runF(opts)
			}
			return teamSealRun(opts)
		},
	}
	return cmd
}

func teamSealRun(opts *TeamSealOptions) error {
	f := opts.F
	tc, err := loadTeam(f)
	if err != nil {
		return err
	}
	rs, _, err := tc.recipients()
	if err != nil {
		return err
	}
	if len(rs) == 0 {
		return exitcode.New(exitcode.Failed, step.WithFix(fmt.Errorf("%s lists no recipient", tc.RecipientsRel), "add one with `cdb-setup team add ~/.ssh/id_ed25519.pub`"))
	}
	sc, err := loadSecrets(f, SelectionFlags{})
	if err != nil {
		return err
	}
	bundle, skipped, err := sealSelection(sc, opts.Names)
	if err != nil {
		return err
	}
	w := f.IO.ErrOut
	for _, s := range skipped {
		fmt.Fprintf(w, "- %s\n", s)
	}
	if len(bundle) == 0 {
		return exitcode.New(exitcode.Failed, step.WithFix(errors.New("nothing to seal: none of the chosen secrets has a value in the secrets folder"),
			"write them first (`cdb-setup secrets init --set NAME=@FILE`), then seal"))
	}
	if sealedAlready(f, tc, bundle, rs) {
		fmt.Fprintf(w, "Already done: %s holds exactly these %d secret(s) (%s) for %s; nothing changed.\n", tc.SealedRel, len(bundle), strings.Join(bundle.Names(), ", "), recipientNames(rs))
		f.setData(map[string]any{"sealed_file": tc.SealedRel, "secrets": bundle.Names(), "recipients": rs, "changed": false})
		return nil
	}
	if f.Global.DryRun {
		fmt.Fprintf(w, "Would seal %s for %s into %s.\n", strings.Join(bundle.Names(), ", "), recipientNames(rs), tc.SealedRel)
		return nil
	}
	sealed, err := team.Seal(bundle, rs)
	if err != nil {
		return exitcode.New(exitcode.Failed, err)
	}
	unlock, err := lockUnlessDryRun(f, "cdb-setup team seal")
	if err != nil {
		return err
	}
	defer unlock()
	if err := writeCommitted(tc.SealedPath, sealed); err != nil {
		return exitcode.New(exitcode.Failed, fmt.Errorf("write %s: %w", tc.SealedRel, err))
	}
	f.setData(map[string]any{"sealed_file": tc.SealedRel, "secrets": bundle.Names(), "recipients": rs, "changed": true})
	fmt.Fprintf(w, "✓ Sealed %d secret(s) (%s) for %d recipient(s) (%s) into %s.\n", len(bundle), strings.Join(bundle.Names(), ", "), len(rs), recipientNames(rs), tc.SealedRel)
	if ign := gitIgnored(f.ctx(), tc.Repo, tc.SealedRel); ign != "" {
		fmt.Fprintf(w, "! git ignores %s (%s): commit it with git add -f %s %s\n", tc.SealedRel, ign, tc.SealedRel, tc.RecipientsRel)
	} else {
		fmt.Fprintf(w, "Next: commit it (git add %s %s).\n", tc.SealedRel, tc.RecipientsRel)
	}
	return nil
}

// sealSelection reads the values to seal. Default: every external secret
// with a value. A named secret must exist; a derived one is refused.
func sealSelection(sc *secretsContext, names []string) (team.Bundle, []string, error) {
	b := team.Bundle{}
	var skipped []string
	pick := sc.Catalogue.Secrets
	if len(names) > 0 {
		pick = nil
		for _, n := range names {
			s, ok := sc.Catalogue.Get(n)
			if !ok {
				s = secrets.Secret{Name: n, Policy: manifest.Secret{Kind: manifest.KindExternal}}
				if _, err := os.Lstat(filepath.Join(sc.SecretsDir, n)); err != nil {
					return nil, nil, exitcode.Usagef("%s is not a secret of this stack and not in %s (known: %s)", n, sc.SecretsDir, strings.Join(sc.Catalogue.Names(), ", "))
				}
			}
			if s.Policy.Kind == manifest.KindDerived {
				return nil, nil, exitcode.Usagef("%s is derived from other secrets; it is not sealed (open derives it from what it restores)", n)
			}
			pick = append(pick, s)
		}
	}
	for _, s := range pick {
		if len(names) == 0 && s.Policy.Kind != manifest.KindExternal {
			continue
		}
		v, err := secrets.ReadSecret(filepath.Join(sc.SecretsDir, s.Name))
		if errors.Is(err, fs.ErrNotExist) || (err == nil && len(v) == 0) {
			skipped = append(skipped, s.Name+": no value in the secrets folder, not sealed")
			continue
		}
		if err != nil {
			return nil, nil, exitcode.New(exitcode.Failed, err)
		}
		if ps := secrets.Lint(s.Name, v, s.Policy); secrets.HasErrors(ps) {
			return nil, nil, exitcode.New(exitcode.Failed, step.WithFix(fmt.Errorf("%s cannot be sealed as it is: %s", s.Name, ps[0].Message),
				"repair it first with `cdb-setup secrets fix`, then seal"))
		}
		b[s.Name] = v
	}
	return b, skipped, nil
}

// gitIgnored says why git ignores rel in repo ("" when it does not, is
// tracked already, or git cannot say): the CDB .gitignore ignores every
// secrets/ folder, so the first commit of the sealed file needs add -f.
func gitIgnored(ctx context.Context, repo, rel string) string {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "git", "check-ignore", "-v", "--", rel)
	cmd.Dir = repo
	out, err := cmd.Output()
	if err != nil {
		return ""
	}
	// "<source>:<line>:<pattern>\t<path>"
	src, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\t")
	if strings.Contains(src, ":!") {
		return "" // a negated pattern: not ignored
	}
	if i := strings.Index(src, ":"); i > 0 {
		if j := strings.Index(src[i+1:], ":"); j >= 0 {
			return fmt.Sprintf("%s line %s: %s", src[:i], src[i+1:i+1+j], src[i+2+j:])
		}
	}
	return src
}

// sealedAlready: the committed file already holds exactly these values for
// exactly these recipients, so sealing again would only churn git (age
// output differs every time). It needs a key of the user's that opens the
// file without asking; otherwise it cannot know and the file is sealed anew.
func sealedAlready(f *Factory, tc *teamContext, b team.Bundle, rs []team.Recipient) bool {
	sealed, exists, err := tc.readSealed()
	if err != nil || !exists {
		return false
	}
	h, err := team.ReadHeader(sealed)
	if err != nil {
		return false
	}
	known, unknown := h.SealedFor(rs)
	ages := 0
	for _, r := range rs {
		if r.Type == team.TypeAge {
			ages++
		}
	}
	if unknown != 0 || h.Anonymous != ages || len(known)+ages != len(rs) {
		return false
	}
	ids, err := team.FindIdentities("", f.Env, tc.Facts.Home)
	if err != nil {
		return false
	}
	old, err := team.Open(sealed, ids, nil)
	if err != nil || len(old) != len(b) {
		return false
	}
	for n, v := range b {
		if ov, ok := old[n]; !ok || !bytes.Equal(ov, v) {
			return false
		}
	}
	return true
}
