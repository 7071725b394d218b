package cli

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/claire-de-binare/cdb-setup/internal/exitcode"
	"github.com/claire-de-binare/cdb-setup/internal/platform"
	"github.com/claire-de-binare/cdb-setup/internal/setup"
	"github.com/claire-de-binare/cdb-setup/internal/step"
	"github.com/claire-de-binare/cdb-setup/internal/wizard"
	"github.com/claire-de-binare/cdb-setup/internal/workspace"
)

// WizardOptions are the inputs of `cdb-setup` without a subcommand.
type WizardOptions struct {
	F *Factory
	// Yes accepts the defaults for every unanswered question (--yes,
	// CDB_SETUP_YES); --no-input alone fails listing what is missing.
	Yes         bool
	AnswersFile string
	// Flag answers; the *Set fields say whether the flag was given.
	Profile  string
	Overlays []string
	Persist  string
	Keychain bool
	Hook     bool
	Start    bool
	set      map[string]bool
	root     *cobra.Command

	// Builders are the steps of the other packages (wizard_steps.go);
	// KeychainAnswers says whether an OS keychain is reachable.
	Builders        *setup.Builders
	KeychainAnswers func(ctx context.Context) bool
	// Ask and Confirm are the huh forms; tests replace them.
	Ask     func(ctx context.Context, o wizard.FormOptions) (wizard.Answers, error)
	Confirm func(ctx context.Context, o wizard.FormOptions, title, desc string, def bool) (bool, error)
	// Reuse offers the last setup's answers on a re-run (wizard_reuse.go);
	// nil asks every question.
	Reuse func(ctx context.Context, o wizard.FormOptions, summary string) (bool, error)
	// YesNo asks a yes/no question (wizard_envcheck.go); nil cannot ask.
	YesNo func(ctx context.Context, o wizard.FormOptions, title, why, yes, no string, def bool) (bool, error)
	// Now is the clock for the "done in" line.
	Now func() time.Time

	// Environment checks the machine before the first question
	// (wizard_envcheck.go); nil checks nothing. It comes with the real
	// Builders: what it checks is what their steps need.
	Environment func(ctx context.Context, s *wizardSession, profile string) setupEnvironment

	// stackLater is the fix for Docker when the user chose to set up the
	// rest without the stack (wizard_envcheck.go).
	stackLater string
}

// bindWizard makes the root command, run without a subcommand, the wizard.
func bindWizard(root *cobra.Command, f *Factory, runF func(*WizardOptions) error) {
	opts := &WizardOptions{F: f, root: root}
	root.Args = cobra.NoArgs
	root.RunE = func(cmd *cobra.Command, args []string) error {
		fl := cmd.Flags()
		opts.set = map[string]bool{}
		for _, n := range []string{"profile", "overlay", "persist", "keychain", "hook", "start"} {
			opts.set[n] = fl.Changed(n)
		}
		opts.Yes = f.Global.Yes
		if !fl.Changed("answers") {
			opts.AnswersFile = f.Env.Getenv("CDB_SETUP_ANSWERS")
		}
		if runF != nil {
			return runF(opts)
		}
		return wizardRun(opts)
	}
	fl := root.Flags()
	fl.StringVar(&opts.AnswersFile, "answers", "", "read the answers from a YAML file (see docs/wizard.md) [CDB_SETUP_ANSWERS]")
	fl.StringVar(&opts.Profile, "profile", "", profileUsage+" [CDB_SETUP_PROFILE]")
	fl.StringSliceVar(&opts.Overlays, "overlay", nil, overlayUsage+"; none for no overlay [CDB_SETUP_OVERLAYS]")
	fl.StringVar(&opts.Persist, "persist", "", "where to persist SECRETS_PATH: shells,gui,wsl,compose-env or none [CDB_SETUP_PERSIST]")
	fl.BoolVar(&opts.Keychain, "keychain", false, "mirror the secrets into the OS keychain (--keychain=false: no) [CDB_SETUP_KEYCHAIN]")
	fl.BoolVar(&opts.Hook, "hook", false, "install the gitleaks pre-commit hook (--hook=false: no) [CDB_SETUP_HOOK]")
	fl.BoolVar(&opts.Start, "start", false, "start the stack at the end (--start=false: no) [CDB_SETUP_START]")
}

// flagAnswers are the answers given as flags on this command line.
func (o *WizardOptions) flagAnswers() (wizard.Answers, error) {
	var a wizard.Answers
	a.SecretsPath = o.F.Global.SecretsPath
	if o.set["profile"] {
		a.Profile = o.Profile
	}
	if o.set["overlay"] {
		a.Overlays = wizard.ParseList(strings.Join(o.Overlays, ","))
	}
	if o.set["persist"] {
		a.Persist = wizard.ParseList(o.Persist)
	}
	if o.set["keychain"] {
		a.Keychain = wizard.Bool(o.Keychain)
	}
	if o.set["hook"] {
		a.Hook = wizard.Bool(o.Hook)
	}
	if o.set["start"] {
		a.Start = wizard.Bool(o.Start)
	}
	if err := a.Validate(); err != nil {
		return a, exitcode.New(exitcode.Usage, err)
	}
	return a, nil
}

func (o *WizardOptions) defaults() {
	// The real forms come together: a test that replaces Ask gets no
	// real re-run question either.
	if o.Reuse == nil && o.Ask == nil {
		o.Reuse = wizard.AskReuse
	}
	if o.YesNo == nil && o.Ask == nil {
		o.YesNo = wizard.YesNo
	}
	if o.Ask == nil {
		o.Ask = wizard.Ask
	}
	if o.Confirm == nil {
		o.Confirm = wizard.Confirm
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.KeychainAnswers == nil {
		o.KeychainAnswers = keychainAnswers(o.F)
	}
	if o.Builders == nil {
		b := setupBuilders(o.F)
		o.Builders = &b
		if o.Environment == nil {
			o.Environment = o.checkEnvironment
		}
	}
}

func wizardRun(o *WizardOptions) error {
	o.defaults()
	f := o.F
	w := f.IO.ErrOut
	ctx := f.ctx()
	start := o.Now()

	if msg := minttyWithoutConsole(f); msg != "" {
		return exitcode.Environmentf("%s", msg)
	}
	s, err := o.session(ctx)
	if err != nil {
		return err
	}

	given, err := o.givenAnswers(s)
	if err != nil {
		return err
	}
	defaults := wizard.Defaults(s.Facts, s.Manifest.DefaultProfile, s.offer)
	// The folder question offers the workspace's folder (flag, variable,
	// last setup, SECRETS_PATH, default); an answer overrides it for this run
	// and is remembered for the next command.
	defaults.SecretsPath = s.SecretsDir
	interactive := f.CanPrompt() && !o.Yes
	given = o.offerTeamSecrets(ctx, s, given, interactive)

	if !f.Global.JSON || interactive {
		printWelcome(w, f, s, *o.Builders)
	}
	// The machine is checked before the first question (wizard_envcheck.go).
	if err := o.environmentFirst(ctx, s, &given, &defaults, interactive); err != nil {
		return err
	}

	// On a re-run the last answers may be taken as they are (one question,
	// wizard_reuse.go); "Edit answers" on the plan still asks every one.
	reusedAns, reused, err := o.reuseAnswers(ctx, s, given, defaults, interactive)
	if err != nil {
		return err
	}

	// The questions and the plan repeat while the user picks "Edit answers"
	// on the plan: the questions come back with the answers just given.
	var (
		ans          wizard.Answers
		run          *workspace.Workspace
		st           *platform.State
		groups       []setup.Group
		planRep      step.Report
		placeholders map[string]bool
		deferred     map[string]bool
		locked       bool
		todo         int
	)
	for {
		if reused {
			ans, reused = reusedAns, false
		} else {
			ans, err = o.answers(ctx, s, given, defaults, interactive)
		}
		if err != nil {
			return err
		}
		if interactive {
			// The time the summary reports is the wizard's, not the
			// user's at the questions.
			start = o.Now()
		}
		run, err = s.WithSecretsDir(ans.SecretsPath, answerSource(ans.SecretsPath, s.Workspace))
		if err != nil {
			return err
		}
		ans.SecretsPath = run.SecretsDir
		if ans.Overlays == nil {
			ans.Overlays = []string{}
		}
		if err := checkAnswers(ans, s); err != nil {
			return err
		}
		if err := o.checkSecretsFolderAnswer(s, ans.SecretsPath); err != nil {
			return err
		}
		if s.Facts.CloudSync != "" && isUnderDir(ans.SecretsPath, s.Facts.Documents) {
			fmt.Fprintf(w, "! %s syncs %s: the secrets will be uploaded to the cloud. Use --secrets-path outside it (e.g. %s) to keep them on this machine.\n",
				s.Facts.CloudSync, s.Facts.Documents, filepath.Join(s.Facts.Home, ".secrets", ".cdb"))
		}

		if !f.Global.DryRun && !locked {
			lock, err := f.Lock("cdb-setup")
			if err != nil {
				return err
			}
			defer lock.Release()
			locked = true
		}
		st, err = platform.LoadState(s.StateDir)
		if err != nil {
			return exitcode.New(exitcode.Environment, err)
		}
		in := setup.Input{Answers: ans, Workspace: run, Env: f.Env, State: st}
		groups, err = setup.PlanGroups(ctx, in, *o.Builders)
		if err != nil {
			// Exit 1 unless the error carries its own code (an answer naming a
			// secret the compose files do not use is a usage error: 2).
			return err
		}

		planRep, placeholders, deferred, err = planWizard(ctx, groups)
		if err != nil {
			return err
		}
		todo = printPlan(w, planRep, placeholders, deferred)
		if planFailed(planRep, deferred) {
			fmt.Fprintln(w, "Nothing was changed. Fix the problem above and run cdb-setup again.")
			planRep.NotApplied = true
			f.report(planRep)
			f.setData(wizardJSON{Answers: ans.WithoutSecrets()})
			return SilentError(failureCode(planRep))
		}
		if f.Global.DryRun {
			// (A real run says "Everything already done" once, at its end.)
			if todo == 0 {
				fmt.Fprintln(w, "Everything is already done ✓")
			}
			fmt.Fprintln(w, "Dry run: nothing was changed.")
			f.report(planRep)
			f.setData(wizardJSON{Answers: ans.WithoutSecrets()})
			return nil
		}
		if interactive && todo > 0 {
			ok, err := o.Confirm(ctx, o.formOptions(s), fmt.Sprintf("Apply these %d change(s)?", todo), "Nothing has changed yet; Edit answers goes back to the questions.", true)
			if errors.Is(err, wizard.ErrEditAnswers) {
				// Ask again with these answers offered; the typed credentials
				// too (they are kept only in memory).
				given = ans
				fmt.Fprintln(w)
				continue
			}
			if errors.Is(err, wizard.ErrAborted) || err == nil && !ok {
				fmt.Fprintln(w, "Cancelled. Nothing was changed.")
				if err != nil {
					return SilentError(exitcode.Interrupted)
				}
				return nil
			}
			if err != nil {
				return err
			}
		}
		break
	}

	var rep step.Report
	var runErr error
	if nothingToApply(planRep, todo, deferred) {
		rep = resultsFromPlan(planRep, placeholders)
	} else {
		fmt.Fprintln(w)
		rep, runErr = applyWizard(ctx, w, screenOf(f.IO, f.Env), f.IO.Size, groups)
	}
	if rep.Interrupted {
		runErr = nil
	}
	if err := st.Save(); err != nil && runErr == nil {
		runErr = fmt.Errorf("save state: %w", err)
	}
	f.report(rep)
	f.setData(wizardJSON{Answers: ans.WithoutSecrets()})
	if rep.Interrupted {
		if during := interruptedStep(rep); during != "" {
			fmt.Fprintf(w, "\nInterrupted while it was working on: %s. Every step listed above it is complete; nothing after it was started. The state file %s lists what changed; run cdb-setup again to finish.\n", during, st.Path())
		} else {
			fmt.Fprintf(w, "\nInterrupted. Every step listed above is complete; nothing after it was started. The state file %s lists what changed; run cdb-setup again to finish.\n", st.Path())
		}
		return SilentError(exitcode.Interrupted)
	}
	if runErr != nil {
		return runErr
	}
	o.printSummary(w, s, ans, rep, o.Now().Sub(start))
	o.printStackLater(w)
	if rep.Failed() {
		// Docker unreachable in the up step is 3, like `cdb-setup up`.
		return SilentError(failureCode(rep))
	}
	return nil
}

// interruptedStep is the summary of the step Ctrl-C stopped part-way (the
// step engine keeps it as the last result, unprinted), or "".
func interruptedStep(rep step.Report) string {
	if len(rep.Results) == 0 {
		return ""
	}
	last := rep.Results[len(rep.Results)-1]
	if last.Status != step.StatusFailed || !errors.Is(last.Err, context.Canceled) {
		return ""
	}
	for _, c := range rep.Plans {
		if c.Step == last.Step && c.Summary != "" {
			return c.Summary
		}
	}
	return last.Step
}

// wizardJSON is the wizard's data in the --json envelope (its plan and
// results are the envelope's own).
type wizardJSON struct {
	Answers wizard.Answers `json:"answers"`
}

func isUnderDir(p, root string) bool {
	rel, err := filepath.Rel(root, p)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel)
}
