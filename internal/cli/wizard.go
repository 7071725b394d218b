package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/spf13/cobra"

	"github.com/claire-de-binare/cdb-setup/internal/exitcode"
	"github.com/claire-de-binare/cdb-setup/internal/manifest"
	"github.com/claire-de-binare/cdb-setup/internal/platform"
	"github.com/claire-de-binare/cdb-setup/internal/secrets"
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
	// Now is the clock for the "done in" line.
	Now func() time.Time
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
	fl.StringVar(&opts.Profile, "profile", "", "compose profile, e.g. dev or prod [CDB_SETUP_PROFILE]")
	fl.StringSliceVar(&opts.Overlays, "overlay", nil, "compose overlay (repeatable): logging, strict-health, network-isolation, tls [CDB_SETUP_OVERLAYS]")
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
	}
}

// wizardSession is what one wizard run knows: the workspace (facts, repo,
// manifest, the secrets folder its question offers, project, state folder)
// and which questions apply.
type wizardSession struct {
	*workspace.Workspace
	offer wizard.Offer
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

	if !f.Global.JSON || interactive {
		printWelcome(w, f, s, *o.Builders)
	}

	var ans wizard.Answers
	switch {
	case o.Yes:
		ans = given.Merge(defaults)
	case interactive:
		fo := o.formOptions(s)
		fo.Defaults = given.Merge(defaults)
		ans, err = o.Ask(ctx, fo)
		if errors.Is(err, wizard.ErrAborted) {
			fmt.Fprintln(w, "Cancelled. Nothing was changed.")
			return SilentError(exitcode.Interrupted)
		}
		if err != nil {
			return err
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
			return explained(exitcode.Environment, step.WithFix(
				fmt.Errorf("cdb-setup cannot ask questions here (%s) and %d answer(s) are missing (see data.missing)", whyNoPrompt(f), len(missing)),
				"give them as flags or in an --answers file, or pass --yes to accept the defaults"))
		}
		ans = ans.Merge(defaults)
	}
	run, err := s.WithSecretsDir(ans.SecretsPath, answerSource(ans.SecretsPath, s.Workspace))
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
	if s.Facts.CloudSync != "" && isUnderDir(ans.SecretsPath, s.Facts.Documents) {
		fmt.Fprintf(w, "! %s syncs %s: the secrets will be uploaded to the cloud. Use --secrets-path outside it (e.g. %s) to keep them on this machine.\n",
			s.Facts.CloudSync, s.Facts.Documents, filepath.Join(s.Facts.Home, ".secrets", ".cdb"))
	}

	var st *platform.State
	if !f.Global.DryRun {
		lock, err := f.Lock("cdb-setup")
		if err != nil {
			return err
		}
		defer lock.Release()
	}
	st, err = platform.LoadState(s.StateDir)
	if err != nil {
		return exitcode.New(exitcode.Environment, err)
	}
	in := setup.Input{Answers: ans, Workspace: run, Env: f.Env, State: st}
	groups, err := setup.PlanGroups(ctx, in, *o.Builders)
	if err != nil {
		// Exit 1 unless the error carries its own code (an answer naming a
		// secret the compose files do not use is a usage error: 2).
		return err
	}

	// The plan: every change before anything happens. An area whose plan
	// fails while an area it reads from (the keychain restore, the secret
	// files) still has changes to make is planned again once those are
	// made: its failure may be what they fix. Any other plan failure stops
	// the run before anything changes.
	var planRep step.Report
	placeholders, deferred, pending := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for _, g := range groups {
		rep, err := step.Run(ctx, g.Steps, step.Options{DryRun: true, KeepGoing: true})
		if err != nil {
			return err
		}
		for _, st := range g.Steps {
			if setup.IsPlaceholder(st) {
				placeholders[st.ID()] = true
			}
		}
		planRep.Plans = append(planRep.Plans, rep.Plans...)
		fed := false
		for _, d := range g.DependsOn {
			fed = fed || pending[d]
		}
		for _, r := range rep.Results {
			if r.Status == step.StatusFailed && fed {
				deferred[r.Step] = true
			}
			planRep.Results = append(planRep.Results, r)
		}
		for _, c := range rep.Plans {
			if !c.None && !placeholders[c.Step] {
				pending[g.Area] = true
			}
		}
	}
	todo := printPlan(w, planRep, placeholders, deferred)
	if planFailed(planRep, deferred) {
		fmt.Fprintln(w, "Nothing was changed. Fix the problem above and run cdb-setup again.")
		planRep.NotApplied = true
		f.report(planRep)
		f.setData(wizardJSON{Answers: ans.WithoutSecrets()})
		return SilentError(failureCode(planRep))
	}
	if f.Global.DryRun {
		fmt.Fprintln(w, "Dry run: nothing was changed.")
		f.report(planRep)
		f.setData(wizardJSON{Answers: ans.WithoutSecrets()})
		return nil
	}
	if interactive && todo > 0 {
		ok, err := o.Confirm(ctx, o.formOptions(s), fmt.Sprintf("Apply these %d change(s)?", todo), "Nothing has changed yet; No stops here.", true)
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

	// Apply, one line per step as it finishes, area by area (each planned
	// again first, so it sees what the areas before it did).
	fmt.Fprintln(w)
	var rep step.Report
	var runErr error
	for _, g := range groups {
		r, err := step.Run(ctx, g.Steps, step.Options{OnResult: func(r step.Result) { printWizardResult(w, r) }})
		rep.Plans = append(rep.Plans, r.Plans...)
		rep.Results = append(rep.Results, r.Results...)
		if r.Interrupted {
			rep.Interrupted = true
		}
		if err != nil || r.Interrupted || r.Failed() {
			runErr = err
			break
		}
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
		fmt.Fprintf(w, "\nInterrupted. Every step listed above is complete; nothing after it was started. The state file %s lists what changed; run cdb-setup again to finish.\n", st.Path())
		return SilentError(exitcode.Interrupted)
	}
	if runErr != nil {
		return runErr
	}
	o.printSummary(w, s, ans, rep, o.Now().Sub(start))
	if rep.Failed() {
		// Docker unreachable in the up step is 3, like `cdb-setup up`.
		return SilentError(failureCode(rep))
	}
	return nil
}

// planFailed: a plan failure that no earlier change can resolve.
func planFailed(rep step.Report, deferred map[string]bool) bool {
	for _, r := range rep.Results {
		if r.Status == step.StatusFailed && !deferred[r.Step] {
			return true
		}
	}
	return false
}

// wizardJSON is the wizard's data in the --json envelope (its plan and
// results are the envelope's own).
type wizardJSON struct {
	Answers wizard.Answers `json:"answers"`
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

func (o *WizardOptions) formOptions(s *wizardSession) wizard.FormOptions {
	f := o.F
	return wizard.FormOptions{
		In: f.IO.In, Out: f.IO.ErrOut,
		Accessible: accessibleMode(f.Env),
		NoColor:    f.Env.Getenv("NO_COLOR") != "",
		Facts:      s.Facts,
		Offer:      s.offer,
	}
}

// accessibleMode: ACCESSIBLE=1 or TERM=dumb asks line by line (screen
// readers, dumb terminals). Only ever used with a terminal: Ask is not
// called without one.
func accessibleMode(env platform.Environment) bool {
	if v := env.Getenv("ACCESSIBLE"); v != "" && v != "0" && !strings.EqualFold(v, "false") {
		return true
	}
	return env.Getenv("TERM") == "dumb"
}

func whyNoPrompt(f *Factory) string {
	switch {
	case f.Global.JSON:
		return "--json"
	case f.Global.NoInput:
		return "--no-input"
	case f.Global.Yes:
		return "--yes"
	case f.Env.Getenv("CI") != "":
		return "CI is set"
	}
	return "no terminal"
}

// minttyWithoutConsole: Git Bash's MinTTY gives programs named pipes, not
// a Windows console, so no prompt can work there; say what does instead of
// failing with "could not open a new TTY".
func minttyWithoutConsole(f *Factory) string {
	in, ok := f.IO.In.(*os.File)
	return minttyMessage(ok && !f.IO.InTTY && isatty.IsCygwinTerminal(in.Fd()), f.CanPromptIgnoringTTY())
}

// minttyMessage is the decision alone (isatty answers only on Windows).
func minttyMessage(cygwinPipe, wantsQuestions bool) string {
	if !cygwinPipe || !wantsQuestions {
		return ""
	}
	return "Git Bash (MinTTY) gives cdb-setup no Windows console, so it cannot ask its questions: run it in Windows Terminal, or as `winpty cdb-setup`; or pass --yes / --answers FILE"
}

// CanPromptIgnoringTTY is CanPrompt without the terminal test: the user did
// not ask for a run without questions.
func (f *Factory) CanPromptIgnoringTTY() bool {
	saved := *f.IO
	f.IO.InTTY, f.IO.ErrTTY = true, true
	ok := f.CanPrompt()
	*f.IO = saved
	return ok
}

func printWelcome(w io.Writer, f *Factory, s *wizardSession, b setup.Builders) {
	fa := s.Facts
	sys := fa.OS + "/" + fa.Arch
	if fa.WSL {
		sys += " (WSL " + fa.WSLDistro + ")"
	}
	docs := fa.Documents
	if fa.CloudSync != "" {
		docs += "  ! synced by " + fa.CloudSync
	}
	shell := fa.LoginShell
	if shell == "" {
		shell = "(unknown)"
	}
	fmt.Fprintln(w, "cdb-setup: from a fresh clone to a healthy Claire de Binare stack")
	fmt.Fprintf(w, "  System     %s\n", sys)
	fmt.Fprintf(w, "  Shell      %s\n", shell)
	fmt.Fprintf(w, "  Docker     %s\n", dockerContext(f))
	fmt.Fprintf(w, "  Repo       %s (%s)\n", s.Repo, s.ManifestSource)
	fmt.Fprintf(w, "  Documents  %s\n", docs)
	fmt.Fprintln(w, "What happens: a few questions, then the full list of changes; nothing changes until you confirm.")
	var na []string
	for _, ar := range setup.Areas(wizard.Answers{Keychain: wizard.Bool(true), Persist: []string{"x"}, Hook: wizard.Bool(true), Start: wizard.Bool(true)}, b) {
		if ar.Build == nil && !(ar.ID == "stack.preflight" && b.Up != nil) {
			na = append(na, ar.Title)
		}
	}
	if len(na) > 0 {
		fmt.Fprintf(w, "Not available in this version: %s.\n", strings.Join(na, "; "))
	}
	fmt.Fprintln(w)
}

// dockerContext names the Docker context for the welcome; Docker is needed
// only to start the stack, so its absence is information, not an error.
func dockerContext(f *Factory) string {
	if h := f.Env.Getenv("DOCKER_HOST"); h != "" {
		return "DOCKER_HOST=" + h
	}
	if c := f.Env.Getenv("DOCKER_CONTEXT"); c != "" {
		return "context " + c + " (DOCKER_CONTEXT)"
	}
	path, err := platform.LookPathIn(f.Env, "docker")
	if err != nil {
		return "docker not found on PATH (needed to start the stack)"
	}
	ctx, cancel := context.WithTimeout(f.ctx(), 5*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, "context", "show")
	cmd.Env = f.Env.Environ()
	out, err := cmd.Output()
	if err != nil {
		return "docker found, context unknown (" + firstLine(err.Error()) + ")"
	}
	return "context " + strings.TrimSpace(string(out))
}

// printPlan lists every change and returns how many would change something.
func printPlan(w io.Writer, rep step.Report, placeholders, deferred map[string]bool) int {
	fmt.Fprintln(w, "The plan:")
	todo := 0
	for _, c := range rep.Plans {
		if placeholders[c.Step] {
			fmt.Fprintf(w, "  - %s\n", c.Summary)
			continue
		}
		if c.None {
			fmt.Fprintf(w, "  ✓ %s\n", c.Summary)
			continue
		}
		todo++
		fmt.Fprintf(w, "  • %s\n", c.Summary)
		for _, t := range c.Targets {
			fmt.Fprintf(w, "      %s\n", t)
		}
	}
	for _, r := range rep.Results {
		if deferred[r.Step] {
			fmt.Fprintf(w, "  … %s (checked again after the changes above)\n", r.Detail)
			continue
		}
		printWizardResult(w, r)
	}
	if todo == 0 && !planFailed(rep, deferred) {
		fmt.Fprintln(w, "Everything is already done ✓")
	}
	return todo
}

func printWizardResult(w io.Writer, r step.Result) {
	switch r.Status {
	case step.StatusChanged:
		fmt.Fprintf(w, "✓ %s\n", r.Detail)
	case step.StatusDone:
		d := r.Detail
		if !strings.Contains(strings.ToLower(d), "already") {
			d += " (already done)"
		}
		fmt.Fprintf(w, "✓ %s\n", d)
	case step.StatusSkipped:
		fmt.Fprintf(w, "- %s\n", r.Detail)
	case step.StatusFailed:
		fmt.Fprintf(w, "✗ %s\n", r.Detail)
		if r.Fix != "" {
			fmt.Fprintf(w, "  fix: %s\n", r.Fix)
		}
	}
}

func (o *WizardOptions) printSummary(w io.Writer, s *wizardSession, a wizard.Answers, rep step.Report, took time.Duration) {
	n := map[step.Status]int{}
	for _, r := range rep.Results {
		n[r.Status]++
	}
	fmt.Fprintln(w)
	switch {
	case rep.Failed():
		fmt.Fprintf(w, "Setup stopped: %d failed (see the fix above), %d changed, %d already done. Fix it and run cdb-setup again; finished steps are not repeated.\n",
			n[step.StatusFailed], n[step.StatusChanged], n[step.StatusDone])
		return
	case n[step.StatusChanged] == 0:
		fmt.Fprintf(w, "Everything already done ✓ (%s)\n", took.Round(100*time.Millisecond))
	default:
		fmt.Fprintf(w, "Done in %s: %d changed, %d already done, %d skipped.\n",
			took.Round(100*time.Millisecond), n[step.StatusChanged], n[step.StatusDone], n[step.StatusSkipped])
	}
	if changedArea(rep, "env.") {
		fmt.Fprintln(w, "What to restart:")
		for _, n := range platform.RestartNotes(persistOptions(setup.Input{Answers: a, Workspace: s.Workspace})) {
			fmt.Fprintf(w, "  • %s\n", n)
		}
	}
	if ranArea(rep, "stack.up") {
		for _, c := range s.Manifest.Checks {
			if c.Kind == "http-basic-auth" {
				fmt.Fprintf(w, "%s: http://%s (user %s, password in %s)\n", c.Service, c.Address, c.User, filepath.Join(a.SecretsPath, c.Secret))
			}
		}
	}
	fmt.Fprintf(w, "Secrets folder: %s\n", a.SecretsPath)
	if o.hasCommand("uninstall") {
		fmt.Fprintln(w, "Undo: cdb-setup uninstall (keeps the secrets; --purge removes them too)")
	}
	fmt.Fprintln(w, "Check any time: cdb-setup doctor")
}

func changedArea(rep step.Report, prefix string) bool {
	for _, r := range rep.Results {
		if r.Status == step.StatusChanged && strings.HasPrefix(r.Step, prefix) {
			return true
		}
	}
	return false
}

func ranArea(rep step.Report, prefix string) bool {
	for _, r := range rep.Results {
		if (r.Status == step.StatusChanged || r.Status == step.StatusDone) && strings.HasPrefix(r.Step, prefix) {
			return true
		}
	}
	return false
}

// hasCommand reports whether this build has a top-level command (the
// summary only advertises what exists).
func (o *WizardOptions) hasCommand(name string) bool {
	if o.root == nil {
		return false
	}
	c, _, err := o.root.Find([]string{name})
	return err == nil && c != o.root
}

func sortedNames[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func isUnderDir(p, root string) bool {
	rel, err := filepath.Rel(root, p)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel)
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}
