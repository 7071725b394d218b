package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"sort"
	"strings"

	"github.com/claire-de-binare/cdb-setup/internal/exitcode"
	"github.com/claire-de-binare/cdb-setup/internal/manifest"
	"github.com/claire-de-binare/cdb-setup/internal/secrets"
	"github.com/claire-de-binare/cdb-setup/internal/step"
	"github.com/claire-de-binare/cdb-setup/internal/wizard"
	"github.com/claire-de-binare/cdb-setup/internal/workspace"
)

// wizardSession is what one wizard run knows: the workspace (facts, repo,
// manifest, the secrets folder its question offers, project, state folder)
// and which questions apply.
type wizardSession struct {
	*workspace.Workspace
	offer wizard.Offer
}

func (o *WizardOptions) session(ctx context.Context) (*wizardSession, error) {
	f := o.F
	ws, err := f.repoWorkspace()
	if err != nil {
		return nil, err
	}
	if _, err := f.StateDir(); err != nil {
		return nil, err
	}
	s := &wizardSession{Workspace: ws}
	s.offer = o.offer(ctx, s)
	return s, nil
}

// answerSource says where the folder of this run came from: the
// workspace's source when the answer is that folder, else the answer.
func answerSource(answer string, ws *workspace.Workspace) string {
	if p, err := workspace.ExpandPath(answer, ws.Facts.Home); err == nil && p == ws.SecretsDir {
		return ws.SecretsSource
	}
	return "from your answer"
}

// offer says which questions apply: only areas this version can do, the
// keychain only when one answers.
func (o *WizardOptions) offer(ctx context.Context, s *wizardSession) wizard.Offer {
	b := *o.Builders
	of := wizard.Offer{
		Profiles: sortedNames(s.Manifest.Profiles),
		Overlays: sortedNames(s.Manifest.Overlays),
		External: externalSecrets(ctx, o.F, s),
		Persist:  b.Persist != nil,
		Hook:     b.Hook != nil,
		Start:    b.Up != nil,
	}
	of.Keychain = b.KeychainPush != nil && o.KeychainAnswers(ctx)
	if b.KeychainPush != nil && !of.Keychain {
		o.Builders.NoKeychain = "no OS keychain answers on this machine"
	}
	for _, t := range wizard.PersistTargets {
		if t == wizard.PersistWSL && s.Facts.OS != "windows" {
			continue // WSLENV is a Windows variable
		}
		if t == wizard.PersistGUI && s.Facts.OS == "windows" {
			continue // the user environment already reaches GUI programs
		}
		of.PersistTargets = append(of.PersistTargets, t)
	}
	return of
}

// externalSecrets lists the secrets the user supplies: from the compose
// files (a secret compose has and the manifest does not describe is asked
// for), else from the manifest alone.
func externalSecrets(ctx context.Context, f *Factory, s *wizardSession) []wizard.ExternalSecret {
	var out []wizard.ExternalSecret
	add := func(name string, p manifest.Secret) {
		out = append(out, wizard.ExternalSecret{Name: name, Prompt: p.Prompt, Optional: p.Optional, Sensitive: sensitiveName(name)})
	}
	cat, err := secrets.Discover(ctx, secrets.DiscoverOptions{Repo: s.Repo, Manifest: s.Manifest, Dir: s.SecretsDir, Env: f.Env})
	if err == nil {
		for _, sec := range cat.Secrets {
			if sec.Policy.Kind == manifest.KindExternal {
				add(sec.Name, sec.Policy)
			}
		}
		return out
	}
	for _, name := range sortedNames(s.Manifest.Secrets) {
		if p := s.Manifest.Secrets[name]; p.Kind == manifest.KindExternal {
			add(name, p)
		}
	}
	return out
}

// sensitiveName: everything is masked except addresses and user names,
// which the user wants to see while typing.
func sensitiveName(name string) bool {
	n := strings.ToUpper(name)
	for _, plain := range []string{"_USER", "_FROM", "_TO", "EMAIL"} {
		if strings.Contains(n, plain) && !strings.Contains(n, "PASSWORD") {
			return false
		}
	}
	return true
}

// givenAnswers merges, strongest first: flags, CDB_SETUP_* variables, the
// answers file, the last run's answers.
func (o *WizardOptions) givenAnswers(s *wizardSession) (wizard.Answers, error) {
	a, err := o.flagAnswers()
	if err != nil {
		return a, err
	}
	env, err := wizard.FromEnv(o.F.Env)
	if err != nil {
		return a, exitcode.New(exitcode.Usage, err)
	}
	a = a.Merge(env)
	if o.AnswersFile != "" {
		b, err := os.ReadFile(o.AnswersFile)
		if err != nil {
			return a, exitcode.Usagef("--answers: %v", err)
		}
		fa, err := wizard.ParseYAML(b)
		if err != nil {
			return a, exitcode.Usagef("--answers %s: %v", o.AnswersFile, err)
		}
		if len(fa.External) > 0 {
			if fi, err := os.Stat(o.AnswersFile); err == nil && fi.Mode().Perm()&0o077 != 0 && s.Facts.OS != "windows" {
				fmt.Fprintf(o.F.IO.ErrOut, "! %s holds credentials and other users can read it: chmod 600 %s\n", o.AnswersFile, o.AnswersFile)
			}
		}
		a = a.Merge(fa)
	}
	if s.SavedErr != nil {
		fmt.Fprintf(o.F.IO.ErrOut, "! ignoring the last run's answers: %v\n", s.SavedErr)
	} else {
		a = a.Merge(s.Saved)
	}
	return a, nil
}

func checkAnswers(a wizard.Answers, s *wizardSession) error {
	if err := a.Validate(); err != nil {
		return exitcode.New(exitcode.Usage, err)
	}
	if _, err := s.Manifest.ComposeFiles(manifest.Selection{Profile: a.Profile, Overlays: a.Overlays}); err != nil {
		return exitcode.New(exitcode.Usage, err)
	}
	for _, p := range a.Persist {
		if !slices.Contains(s.offer.PersistTargets, p) {
			return exitcode.Usagef("persist %q does not apply on %s (choose from %s)", p, s.Facts.OS, strings.Join(s.offer.PersistTargets, ", "))
		}
	}
	return nil
}

func sortedNames[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// answers are this run's answers: with --yes the given ones over the
// defaults; at a terminal, what the form returns (given and defaults
// prefilled); else the given ones, and an error naming every missing one
// (exit 3: nothing can be asked here).
func (o *WizardOptions) answers(ctx context.Context, s *wizardSession, given, defaults wizard.Answers, interactive bool) (wizard.Answers, error) {
	f := o.F
	w := f.IO.ErrOut
	var ans wizard.Answers
	var err error
	switch {
	case o.Yes:
		ans = given.Merge(defaults)
	case interactive:
		fo := o.formOptions(s)
		fo.Defaults = given.Merge(defaults)
		ans, err = o.Ask(ctx, fo)
		if errors.Is(err, wizard.ErrAborted) {
			fmt.Fprintln(w, "Cancelled. Nothing was changed.")
			return ans, SilentError(exitcode.Interrupted)
		}
		if err != nil {
			return ans, err
		}
	default:
		ans = given
		if missing := ans.Missing(s.offer); len(missing) > 0 {
			fmt.Fprintf(w, "✗ cdb-setup cannot ask questions here (%s) and %d answer(s) are missing:\n", whyNoPrompt(f), len(missing))
			for _, m := range missing {
				fmt.Fprintf(w, "  - %s\n", m)
			}
			fmt.Fprintln(w, "Give them, or pass --yes to accept the defaults (see them with `cdb-setup --yes --dry-run`).")
			f.setData(map[string]any{"missing": missing})
			return ans, explained(exitcode.Environment, step.WithFix(
				fmt.Errorf("cdb-setup cannot ask questions here (%s) and %d answer(s) are missing (see data.missing)", whyNoPrompt(f), len(missing)),
				"give them as flags or in an --answers file, or pass --yes to accept the defaults"))
		}
		ans = ans.Merge(defaults)
	}
	return ans, nil
}
