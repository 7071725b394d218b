package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/claire-de-binare/cdb-setup/internal/secrets"
	"github.com/claire-de-binare/cdb-setup/internal/team"
	"github.com/claire-de-binare/cdb-setup/internal/wizard"
)

// offerTeamSecrets is the wizard's team step (issue 17): on a clone whose
// sealed file lists one of the user's keys, opening it replaces asking for
// each external secret; the opened values become answers and are written
// with the other secrets, through the same steps. When no key of the user's
// is listed, it says who can add one and the exact command to send them,
// and the wizard asks as before. Nothing here fails the wizard.
func (o *WizardOptions) offerTeamSecrets(ctx context.Context, s *wizardSession, given wizard.Answers, interactive bool) wizard.Answers {
	f := o.F
	w := f.IO.ErrOut
	tc, err := loadTeam(f)
	if err != nil || !o.teamSecretsWanted(s, given) {
		return given
	}
	sealed, exists, err := tc.readSealed()
	if err != nil || !exists {
		return given
	}
	rs, _, err := tc.recipients()
	if err != nil {
		fmt.Fprintf(w, "! The team's sealed secrets cannot be used: %s\n", oneLine(err))
		return given
	}
	ids, _ := team.FindIdentities("", f.Env, s.Facts.Home)
	id, _, listed := team.Listed(ids, rs)
	if !listed {
		fmt.Fprintf(w, "! The team's shared secrets are sealed in %s, and none of your keys is listed.\n", tc.SealedRel)
		fmt.Fprintf(w, "  To get them: %s.\n  Until then, enter them here.\n", sendToRecipients(tc, ids, orNames(rs)))
		return given
	}
	q := fmt.Sprintf("Open the team's shared secrets with %s?", tildePath(id.Source, s.Facts.Home))
	if strings.HasPrefix(id.Source, team.IdentityEnv) {
		q = "Open the team's shared secrets with the key in " + team.IdentityEnv + "?"
	}
	switch {
	case interactive:
		ok, err := o.Confirm(ctx, o.formOptions(s), q, fmt.Sprintf("%s is sealed for you; it replaces typing each external secret.", tc.SealedRel), true)
		if err != nil || !ok {
			return given
		}
	case o.Yes:
		fmt.Fprintf(w, "%s yes (--yes)\n", q)
	default:
		fmt.Fprintf(w, "- %s is sealed for your key: `cdb-setup team open` writes the team's shared secrets.\n", tc.SealedRel)
		return given
	}
	bundle, err := team.Open(sealed, []*team.Identity{id}, askPassphrase(f))
	if err != nil {
		var se *team.SealedError
		msg := oneLine(err)
		if errors.As(err, &se) && (se.Kind == team.Tampered || se.Kind == team.Truncated || se.Kind == team.Damaged) {
			msg += "; restore it with git checkout -- " + tc.SealedRel
		}
		fmt.Fprintf(w, "✗ Could not open the team's secrets: %s\n  The wizard asks for them instead.\n", msg)
		return given
	}
	if given.External == nil {
		given.External = map[string]string{}
	}
	var used []string
	for _, name := range bundle.Names() {
		if !slices.ContainsFunc(s.offer.External, func(e wizard.ExternalSecret) bool { return e.Name == name }) {
			continue
		}
		// A value already in the folder is the user's: kept (team status
		// shows whether it differs).
		dir := s.SecretsDir
		if given.SecretsPath != "" {
			dir = given.SecretsPath
		}
		if v, err := secrets.ReadSecret(filepath.Join(dir, name)); err == nil && len(v) > 0 {
			continue
		}
		if _, typed := given.External[name]; !typed {
			given.External[name] = string(bundle[name])
			used = append(used, name)
		}
	}
	s.offer.External = slices.DeleteFunc(s.offer.External, func(e wizard.ExternalSecret) bool { return slices.Contains(used, e.Name) })
	fmt.Fprintf(w, "✓ Opened %s: %s (written with the other secrets below).\n", tc.SealedRel, strings.Join(used, ", "))
	return given
}

// teamSecretsWanted: some external secret still lacks a value in the
// folder and was not given: a re-run with everything in place asks nothing.
func (o *WizardOptions) teamSecretsWanted(s *wizardSession, given wizard.Answers) bool {
	dir := s.SecretsDir
	if given.SecretsPath != "" {
		dir = given.SecretsPath
	}
	for _, e := range s.offer.External {
		if _, ok := given.External[e.Name]; ok {
			continue
		}
		v, err := secrets.ReadSecret(filepath.Join(dir, e.Name))
		if err != nil || len(v) == 0 {
			return true
		}
	}
	return false
}

func orNames(rs []team.Recipient) string {
	var n []string
	for _, r := range rs {
		n = append(n, r.Name)
	}
	if len(n) == 0 {
		return "a teammate"
	}
	return strings.Join(n, " or ")
}

// tildePath shows a path under home as ~/..., as people write it.
func tildePath(p, home string) string {
	if rel, err := filepath.Rel(home, p); err == nil && !strings.HasPrefix(rel, "..") && home != "" {
		return "~" + string(os.PathSeparator) + rel
	}
	return p
}
