package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/claire-de-binare/cdb-setup/internal/checks"
	"github.com/claire-de-binare/cdb-setup/internal/exitcode"
	"github.com/claire-de-binare/cdb-setup/internal/manifest"
	"github.com/claire-de-binare/cdb-setup/internal/platform"
	"github.com/claire-de-binare/cdb-setup/internal/secrets"
	"github.com/claire-de-binare/cdb-setup/internal/step"
	"github.com/claire-de-binare/cdb-setup/internal/wizard"
	"github.com/claire-de-binare/cdb-setup/internal/workspace"
)

// The wizard checks the machine before its first question (issue 14: the
// user answered everything, secrets, env and hook were applied, and only
// then did `up` find Docker unreachable). What it does with a failure:
//
//   - the clone is not a CDB clone: nothing can be set up; stop, exit 3;
//   - Docker or Compose v2 is not usable and the answers want the stack
//     started: at a terminal, ask whether to set up the rest without the
//     stack (default No: stop, exit 3); without questions (--yes,
//     --no-input) stop, exit 3, naming --start=false for the rest — an
//     installer does not half-install unless told to;
//   - gitleaks missing is a warning: the hook step installs it or says how.
//
// Nothing has changed at that point, whatever the outcome.

// setupEnvironment is what the checks before the questions found.
type setupEnvironment struct {
	Outcomes []checks.Outcome `json:"environment"`
}

// failed is the first failed outcome among ids, or nil.
func (e setupEnvironment) failed(ids ...string) *checks.Outcome {
	for i, o := range e.Outcomes {
		for _, id := range ids {
			if o.ID == id && o.Status == checks.Fail {
				return &e.Outcomes[i]
			}
		}
	}
	return nil
}

// environmentFirst checks the machine (o.Environment) and stops or goes on
// without the stack (decideEnvironment).
func (o *WizardOptions) environmentFirst(ctx context.Context, s *wizardSession, given, defaults *wizard.Answers, interactive bool) error {
	if !interactive {
		// A bad answer (an unknown profile) is a usage error whatever the
		// machine: say that first.
		if err := checkAnswers(given.Merge(*defaults), s); err != nil {
			return err
		}
	}
	if o.Environment == nil {
		return nil
	}
	env := o.Environment(ctx, s, given.Profile)
	printEnvironment(o.F.IO.ErrOut, env)
	return o.decideEnvironment(ctx, s, env, given, defaults, interactive)
}

// checkEnvironment runs checks.SetupEnvironment for the compose files the
// profile selects (Compose v1 can read some and not others).
func (o *WizardOptions) checkEnvironment(ctx context.Context, s *wizardSession, profile string) setupEnvironment {
	f := o.F
	if profile == "" {
		profile = s.Manifest.DefaultProfile
	}
	pf := &checks.Preflight{Env: f.Env, Home: s.Facts.Home, GOOS: s.Facts.OS}
	if files, err := s.Manifest.ComposeFiles(manifest.Selection{Profile: profile}); err == nil {
		for _, p := range files {
			pf.ComposeFiles = append(pf.ComposeFiles, filepath.Join(s.Repo, filepath.FromSlash(p)))
		}
	}
	list := checks.SetupEnvironment(checks.Env{Workspace: s.Workspace, Env: f.Env}, pf)
	env := setupEnvironment{Outcomes: checks.RunConcurrently(ctx, list, nil)}
	if pf.Engine.Client != nil {
		pf.Engine.Client.Close()
	}
	return env
}

func printEnvironment(w io.Writer, env setupEnvironment) {
	fmt.Fprintln(w, "This machine, checked before any question:")
	for _, o := range env.Outcomes {
		printCheck(w, o)
	}
	fmt.Fprintln(w)
}

// decideEnvironment stops the run (exit 3, nothing changed) when it cannot
// succeed, or, when the user chooses to at a terminal, takes the stack out
// of this run: its question is not asked and its steps say why.
func (o *WizardOptions) decideEnvironment(ctx context.Context, s *wizardSession, env setupEnvironment, given, defaults *wizard.Answers, interactive bool) error {
	f := o.F
	w := f.IO.ErrOut
	if r := env.failed("repo"); r != nil {
		fmt.Fprintln(w, "✗ cdb-setup cannot set up this folder: nothing was changed. Fix the problem above and run cdb-setup again.")
		f.setData(env)
		return explained(exitcode.Environment, step.WithFix(errors.New(r.Detail), r.Fix))
	}
	r := env.failed("docker.engine", "docker.compose")
	if r == nil || !s.offer.Start || given.Start != nil && !*given.Start {
		return nil // the stack is not needed, or it can start
	}
	why := r.Title + ": " + r.Detail
	if interactive && o.YesNo != nil {
		ok, err := o.YesNo(ctx, o.formOptions(s), "The stack cannot start on this machine. Set up the rest without it?",
			"Yes: the secrets, SECRETS_PATH and the hook now, the stack later with `cdb-setup up` once Docker works. No: stop here; nothing has changed.", "Yes", "No", false)
		if errors.Is(err, wizard.ErrAborted) {
			fmt.Fprintln(w, "Cancelled. Nothing was changed.")
			return SilentError(exitcode.Interrupted)
		}
		if err != nil {
			return err
		}
		if ok {
			o.withoutStack(s, given, defaults, r)
			return nil
		}
		fmt.Fprintf(w, "Stopped: nothing was changed. Fix: %s\n", o.wizardFix(r.Fix))
		f.setData(env)
		return explained(exitcode.Environment, step.WithFix(errors.New(why), o.wizardFix(r.Fix)))
	}
	fmt.Fprintf(w, "✗ The stack cannot start on this machine (%s): nothing was changed.\n", r.Title)
	fmt.Fprintf(w, "  Fix: %s\n", o.wizardFix(r.Fix))
	fmt.Fprintf(w, "  Or set up everything else now and the stack later: `%s --start=false`\n", o.commandLine())
	f.setData(env)
	return explained(exitcode.Environment, step.WithFix(errors.New(why), o.wizardFix(r.Fix)+"; or set up the rest without the stack: "+o.commandLine()+" --start=false"))
}

// wizardFix is a check's fix as the wizard's: the check's own words end
// with "run `cdb-setup up` again"; here it is the wizard to run again.
func (o *WizardOptions) wizardFix(fix string) string {
	again := "`" + o.commandLine() + "`"
	if strings.Contains(fix, "`cdb-setup up` again") {
		return strings.ReplaceAll(fix, "`cdb-setup up` again", again+" again")
	}
	return fix + "; then run " + again + " again"
}

// withoutStack takes the stack out of this run: no start question, no
// default, the stack steps skipped with the reason. The remembered answer
// is left alone, so the next run starts the stack once Docker works.
func (o *WizardOptions) withoutStack(s *wizardSession, given, defaults *wizard.Answers, r *checks.Outcome) {
	s.offer.Start = false
	given.Start, defaults.Start = nil, nil
	o.Builders.NoStack = "the stack cannot start here: " + r.Detail
	o.stackLater = r.Fix
}

// printStackLater closes a run that set up everything but the stack.
func (o *WizardOptions) printStackLater(w io.Writer) {
	if o.stackLater != "" {
		fix := o.stackLater
		for _, tail := range []string{", then run `cdb-setup up` again", "; then run `cdb-setup up` again"} {
			fix = strings.TrimSuffix(fix, tail)
		}
		fmt.Fprintf(w, "The stack was not started. Fix: %s; then start it: `cdb-setup up`\n", fix)
	}
}

// commandLine is the wizard's command as this run was given (without
// --start), for a suggested re-run: the global flags that locate the clone
// and the folder, the answers given as flags, and how it ran without
// questions.
func (o *WizardOptions) commandLine() string {
	f := o.F
	parts := strings.Fields(rerunCommand(f, "", nil))
	switch {
	case f.Global.Yes:
		parts = append(parts, "--yes")
	case f.Global.NoInput:
		parts = append(parts, "--no-input")
	}
	if o.set["profile"] {
		parts = append(parts, "--profile", platform.ShellArg(o.Profile))
	}
	if o.set["overlay"] {
		parts = append(parts, "--overlay", platform.ShellArg(orNone(strings.Join(o.Overlays, ","))))
	}
	if o.set["persist"] {
		parts = append(parts, "--persist", platform.ShellArg(orNone(o.Persist)))
	}
	for _, b := range []struct {
		name string
		v    bool
	}{{"keychain", o.Keychain}, {"hook", o.Hook}} {
		if o.set[b.name] {
			parts = append(parts, fmt.Sprintf("--%s=%t", b.name, b.v))
		}
	}
	return strings.Join(parts, " ")
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// secretsFolderCheck is the secrets folder question's validation: the
// check the secrets steps run later (secrets.CheckNotInWorktree), with its
// reason and fix, at the moment the folder is given.
func (o *WizardOptions) secretsFolderCheck(s *wizardSession) func(string) error {
	return func(v string) error {
		p, err := workspace.ExpandPath(strings.TrimSpace(v), s.Facts.Home)
		if err != nil {
			return err
		}
		ctx, cancel := context.WithTimeout(o.F.ctx(), 10*time.Second)
		defer cancel()
		_, err = secrets.CheckNotInWorktree(ctx, s.Repo, p)
		return err
	}
}

// checkSecretsFolderAnswer refuses a folder git could commit as soon as
// the answers are known (a flag, a variable, the answers file), before the
// plan: a bad answer is a usage error (exit 2).
func (o *WizardOptions) checkSecretsFolderAnswer(s *wizardSession, folder string) error {
	if err := o.secretsFolderCheck(s)(folder); err != nil {
		fmt.Fprintf(o.F.IO.ErrOut, "✗ %v\n", err)
		return explained(exitcode.Usage, err)
	}
	return nil
}
