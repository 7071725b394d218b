package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/docker/docker/client"
	"github.com/spf13/cobra"

	"github.com/claire-de-binare/cdb-setup/internal/checks"
	"github.com/claire-de-binare/cdb-setup/internal/exitcode"
	"github.com/claire-de-binare/cdb-setup/internal/stack"
	"github.com/claire-de-binare/cdb-setup/internal/step"
)

// UpOptions are the inputs of `cdb-setup up`.
type UpOptions struct {
	F     *Factory
	Stack StackFlags
	Build bool
	// Timeout is the global limit; 0 derives it per service from its
	// healthcheck timings.
	Timeout time.Duration
	// RecreateVolumes deletes these compose volumes (after confirmation)
	// before starting: the stale-volume fix, never done silently.
	RecreateVolumes []string

	// result is the up step's status once run ("done": already running
	// and healthy, nothing changed); the wizard's step reports it.
	result step.Status
}

// NewCmdUp wires `cdb-setup up`.
func NewCmdUp(f *Factory, runF func(*UpOptions) error) *cobra.Command {
	opts := &UpOptions{F: f}
	cmd := &cobra.Command{
		Use:   "up",
		Short: "Start the stack and wait until every target service is healthy, or explain why not",
		Long: `Start the stack with the compose files of the profile and overlays, then wait
on the Docker Engine's events until every target service is healthy (or
running, for services without a healthcheck; one-shot services must exit 0).

A service that turns unhealthy or keeps restarting fails at once, with its
last probe output, its last 50 log lines, the recognised cause and the
command that fixes it. After the stack is healthy, cdb-setup proves each
mounted secret is readable by the container's user and logs in to postgres,
redis and Grafana with the passwords from the secret files.

Secret values are never passed to compose: its environment is yours minus
anything named like a secret, plus SECRETS_PATH.`,
		Example: `  cdb-setup up
  cdb-setup up --logging --strict-health --network-isolation --tls --build
  cdb-setup up --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(opts)
			}
			return upRun(opts)
		},
	}
	opts.Stack.register(cmd)
	cmd.Flags().BoolVar(&opts.Build, "build", false, "rebuild images before starting (compose up --build)")
	cmd.Flags().DurationVar(&opts.Timeout, "timeout", 0, "give up after this long (default: from each service's healthcheck timings)")
	cmd.Flags().StringSliceVar(&opts.RecreateVolumes, "recreate-volume", nil, "delete this compose volume (e.g. postgres_data) and its data before starting; asks first")
	return cmd
}

// upReport is the --json outcome.
type upReport struct {
	OK           bool              `json:"ok"`
	Project      string            `json:"project"`
	ComposeFiles []string          `json:"compose_files"`
	Compose      *stack.Compose    `json:"compose,omitempty"`
	Preflight    []checks.Outcome  `json:"preflight"`
	Services     []stack.Service   `json:"services,omitempty"`
	Diagnoses    []stack.Diagnosis `json:"diagnoses,omitempty"`
	Checks       []checks.Outcome  `json:"checks,omitempty"`
	Interrupted  bool              `json:"interrupted,omitempty"`
	TimedOut     bool              `json:"timed_out,omitempty"`
	ComposeError string            `json:"compose_error,omitempty"`
	Elapsed      float64           `json:"elapsed_seconds"`
	// LastReadyAt is the Engine's time of the last service turning ready.
	LastReadyAt time.Time `json:"last_ready_at,omitzero"`
	Warnings    []string  `json:"warnings,omitempty"`
}

func upRun(opts *UpOptions) error {
	f := opts.F
	w := f.IO.ErrOut
	start := time.Now()
	rep := &upReport{}
	finish := func(err error) error {
		rep.Elapsed = time.Since(start).Seconds()
		f.setData(rep)
		return err
	}

	ls, err := loadStack(f, &opts.Stack)
	if err != nil {
		return finish(err)
	}
	rep.Project, rep.ComposeFiles, rep.Warnings = ls.Inv.Project, ls.Files, ls.Warnings
	for _, wmsg := range ls.Warnings {
		fmt.Fprintf(w, "! %s\n", wmsg)
	}
	rerun := rerunCommand(f, "up", opts.Stack.args())

	engine, compose, err := upPreflight(f, opts, ls, rep, rerun)
	if engine.Client != nil {
		defer engine.Client.Close()
	}
	if err != nil {
		return finish(err)
	}

	// The changes, as steps: the volumes to recreate (asked first), then
	// compose up and the wait. --dry-run shows their plans.
	var steps []step.Step
	recreate, err := recreateSteps(ls, compose, engine.Client, opts.RecreateVolumes)
	if err != nil {
		return finish(err)
	}
	steps = append(steps, recreate...)
	upStep := &upStartStep{f: f, opts: opts, ls: ls, compose: compose, api: engine.Client, rerun: rerun, rep: rep, start: start}
	steps = append(steps, upStep)
	_, err = runStepsOpts(f, steps, step.Options{Confirm: func(plans []step.Change) error { return confirmRecreate(f, plans) }})
	opts.result = upStep.result
	if err == nil {
		rep.OK = true
	}
	return finish(err)
}

// upPreflight runs up's checks before anything starts and prints them; an
// error (exit 1, or 3 when the environment is missing) means nothing was
// started. The Engine client it opened is returned even then (to close).
func upPreflight(f *Factory, opts *UpOptions, ls *loadedStack, rep *upReport, rerun string) (*checks.Engine, *stack.Compose, error) {
	w := f.IO.ErrOut
	facts := ls.Facts
	compose := &stack.Compose{}
	engine := &checks.Engine{}
	pf := &checks.Preflight{Env: f.Env, Home: facts.Home, GOOS: facts.OS, Engine: engine, Compose: compose,
		Project: ls.Inv.Project, Ports: ls.Model.Ports(ls.Project), Build: opts.Build, Rerun: rerun, Volumes: ls.Model.Volumes}
	for _, f := range ls.Files {
		pf.ComposeFiles = append(pf.ComposeFiles, filepath.Join(ls.Repo, filepath.FromSlash(f)))
	}
	pf.ComposeDir = filepath.Dir(pf.ComposeFiles[0])
	pf.SecretNames, pf.SecretsDir = ls.Catalogue.Names(), ls.SecretsDir
	for _, v := range opts.RecreateVolumes {
		pf.Recreate = append(pf.Recreate, volumeName(ls, v))
	}
	for _, u := range ls.secretFiles() {
		sec, _ := ls.Catalogue.Get(u.Name)
		pf.Secrets = append(pf.Secrets, checks.SecretFile{Name: u.Name, Path: u.Path, Services: u.Services, Policy: sec.Policy})
	}
	if opts.Stack.TLS {
		dir := filepath.FromSlash(ls.Manifest.TLS.Dir)
		if !filepath.IsAbs(dir) {
			dir = filepath.Join(ls.Repo, dir)
		}
		pf.TLSDir, pf.TLSFiles = filepath.Clean(dir), ls.Manifest.TLS.Files
	}
	for _, name := range ls.Model.Start {
		sf := ls.Model.Services[name]
		pf.Images = append(pf.Images, checks.Image{Service: name, Name: sf.Image, HasBuild: sf.HasBuild})
	}
	fmt.Fprintf(w, "Preflight for %s (%s, project %s):\n", strings.Join(ls.Files, " + "), ls.ManifestSource, ls.Inv.Project)
	rep.Preflight = checks.RunAll(f.ctx(), pf.Checks(), func(o checks.Outcome) { printCheck(w, o) })
	if compose.Argv != nil {
		rep.Compose = compose
	}
	if f.ctx().Err() != nil {
		rep.Interrupted = true
		return engine, compose, SilentError(exitcode.Interrupted)
	}
	if failed, missing := checks.Failed(rep.Preflight); failed {
		code := exitcode.Failed
		if missing {
			code = exitcode.Environment
		}
		fmt.Fprintln(w, "✗ Preflight failed: nothing was started.")
		return engine, compose, explained(code, preflightError(rep.Preflight))
	}
	return engine, compose, nil
}

// upStartStep is up's compose start and health wait as one step. Its result
// is "done" when every target service was already running, healthy and the
// same container before this up and compose changed none of them (a re-run
// on a finished machine changes nothing), else "changed".
type upStartStep struct {
	f       *Factory
	opts    *UpOptions
	ls      *loadedStack
	compose *stack.Compose
	api     *client.Client
	rerun   string
	rep     *upReport
	start   time.Time
	result  step.Status
}

func (u *upStartStep) ID() string { return "stack.up" }

func (u *upStartStep) sub() []string {
	sub := []string{"up", "-d"}
	if u.opts.Build {
		sub = append(sub, "--build")
	}
	return append(sub, u.ls.Targets...)
}

func (u *upStartStep) Plan(context.Context) (step.Change, error) {
	return step.Change{Step: u.ID(),
		Summary: fmt.Sprintf("%s; wait until %s are healthy", u.compose.CommandLine(u.ls.Inv, u.sub()...), strings.Join(u.ls.Targets, ", ")),
		Targets: u.ls.Targets}, nil
}

func (u *upStartStep) Apply(ctx context.Context) (step.Result, error) {
	before, err := stack.ServiceSnapshot(ctx, u.api, u.ls.Inv.Project, u.ls.Targets)
	if err != nil {
		return step.Failed(u.ID(), err, u.rerun), err2(err)
	}
	if err := u.startAndWait(ctx); err != nil {
		u.result = step.StatusFailed
		if ctx.Err() != nil {
			return step.Failed(u.ID(), errors.New("interrupted"), u.rerun), context.Canceled
		}
		return step.Failed(u.ID(), err, step.FixOf(err)), err
	}
	after, err := stack.ServiceSnapshot(ctx, u.api, u.ls.Inv.Project, u.ls.Targets)
	if err != nil {
		return step.Failed(u.ID(), err, u.rerun), err2(err)
	}
	fields := map[string]any{"services": len(u.ls.Targets)}
	if stack.Unchanged(before, after, u.ls.Targets) {
		u.result = step.StatusDone
		return step.Result{Step: u.ID(), Status: step.StatusDone, Fields: fields,
			Detail: fmt.Sprintf("already running and healthy: %s (nothing changed)", strings.Join(u.ls.Targets, ", "))}, nil
	}
	u.result = step.StatusChanged
	return step.Result{Step: u.ID(), Status: step.StatusChanged, Fields: fields,
		Detail: fmt.Sprintf("the stack %s is up: %s healthy", u.ls.Inv.Project, strings.Join(u.ls.Targets, ", "))}, nil
}

// startAndWait starts compose and waits until the targets are healthy,
// then runs the post-start checks; on failure it prints the diagnosis and
// returns the error (its fix attached).
func (u *upStartStep) startAndWait(ctx context.Context) error {
	f, opts, ls, compose, rep, rerun := u.f, u.opts, u.ls, u.compose, u.rep, u.rerun
	w := f.IO.ErrOut
	sub := u.sub()
	// Wait and start: the waiter subscribes to events first and starts
	// compose only then, so no transition can slip between the two.
	table := newLiveTable(w, f.IO.ErrTTY, f.Env.Getenv("NO_COLOR") == "" && f.IO.ErrTTY)
	composeDone := make(chan error, 1)
	composeFinished := make(chan struct{})
	var composeOut string
	upCtx, cancelCompose := context.WithCancel(ctx)
	defer cancelCompose()
	var composeLog io.Writer
	if f.Global.Verbose {
		composeLog = w
	}
	fmt.Fprintf(w, "Starting: %s\n", compose.CommandLine(ls.Inv, sub...))
	post := newPostChecks(ctx, ls, u.api, rerun)
	res, werr := stack.WaitHealthy(ctx, u.api, stack.WaitOptions{
		Project:  ls.Inv.Project,
		Services: ls.Targets,
		Timeout:  opts.Timeout,
		OnChange: func(s []stack.Service) { table.Update(s); post.Observe(s) },
		OnSubscribed: func() {
			go func() {
				out, err := compose.Run(upCtx, ls.Inv, composeLog, sub...)
				composeOut = out
				close(composeFinished)
				composeDone <- err
			}()
		},
		ComposeDone: composeDone,
	})
	rep.Services, rep.TimedOut, rep.LastReadyAt = res.Services, res.TimedOut, res.LastReadyAt
	if werr != nil {
		if ctx.Err() != nil {
			rep.Interrupted = true
			fmt.Fprintln(w, "Interrupted: the stack was left as it is (containers already started keep running).")
			fmt.Fprintf(w, "  `%s` waits again; `%s` stops it.\n", rerun, rerunCommand(f, "down", opts.Stack.args()))
			return SilentError(exitcode.Interrupted)
		}
		return err2(werr)
	}
	// Stop a compose still blocked on depends_on once the outcome is known,
	// and let it exit (it was interrupted, not killed) before reading its output.
	cancelCompose()
	composeText := ""
	select {
	case <-composeFinished:
		composeText = composeOut
	case <-time.After(20 * time.Second):
	}
	if res.ComposeErr != nil {
		rep.ComposeError = ls.redactor()(res.ComposeErr.Error())
		stack.FailNotStarted(&res, composeText)
		rep.Services = res.Services
	}

	failedSvcs := res.Failed()
	if len(failedSvcs) == 0 && res.ComposeErr == nil {
		fmt.Fprintf(w, "✓ all %d services healthy in %.1fs\n", len(res.Services), time.Since(u.start).Seconds())
		rep.Checks = checks.FromStackAll(post.Results(res.Services))
		for _, c := range rep.Checks {
			printCheck(w, c)
		}
		if bad := checks.Count(rep.Checks)[checks.Fail]; bad > 0 {
			fmt.Fprintf(w, "✗ %d check(s) failed after the stack turned healthy: a healthcheck can pass while a password is wrong.\n", bad)
			fix := ""
			for _, c := range rep.Checks {
				if c.Status == checks.Fail && fix == "" {
					fix = c.Fix
				}
			}
			return explained(exitcode.Failed, step.WithFix(fmt.Errorf("%d check(s) failed after the stack turned healthy (see data.checks)", bad), fix))
		}
		return nil
	}

	in := stack.DiagnoseInput{API: u.api, Project: ls.Inv.Project, ComposeOutput: composeText, Services: ls.Model.Services,
		SecretsDir: ls.SecretsDir, ComposeDir: ls.ComposeDir, Rerun: rerun, Redact: ls.redactor()}
	if res.ComposeErr != nil && len(failedSvcs) == 0 {
		fmt.Fprintf(w, "✗ compose failed: %s\n", in.Redact(res.ComposeErr.Error()))
	}
	for _, s := range failedSvcs {
		if s.Outcome == stack.Waiting || s.Reason == stack.ReasonNotReached {
			continue // another service's failure ended the wait
		}
		d := stack.Diagnose(ctx, in, s)
		rep.Diagnoses = append(rep.Diagnoses, d)
		printDiagnosis(w, d)
	}
	if res.ComposeErr != nil && len(rep.Diagnoses) == 0 {
		fmt.Fprintln(w, lastLinesOf(in.Redact(composeText), 15))
	}
	waiting := 0
	for _, s := range res.Services {
		if s.Outcome == stack.Waiting {
			waiting++
		}
	}
	if waiting > 0 {
		fmt.Fprintf(w, "  (%d other service(s) were still starting; the stack was left running: `%s` stops it)\n", waiting, rerunCommand(f, "down", opts.Stack.args()))
	}
	// The step's ✗ line and the envelope show this message and fix.
	msg := "compose failed"
	if len(rep.Diagnoses) > 0 {
		var names []string
		for _, d := range rep.Diagnoses {
			names = append(names, d.Service+" ("+d.Reason+")")
		}
		msg = "not healthy: " + strings.Join(names, ", ")
	}
	var fix string
	if len(rep.Diagnoses) > 0 {
		fix = rep.Diagnoses[0].Fix
	}
	return explained(exitcode.Failed, step.WithFix(errors.New(msg+" (see the diagnosis above)"), fix))
}

// err2 maps an Engine error during the wait to an exit code.
func err2(err error) error {
	if client.IsErrConnectionFailed(err) {
		return exitcode.Environmentf("lost the Docker Engine during the wait: %v", err)
	}
	return err
}

func printDiagnosis(w io.Writer, d stack.Diagnosis) {
	fmt.Fprintf(w, "✗ %s: %s\n", d.Service, d.Detail)
	if d.ProbeExit != nil {
		fmt.Fprintf(w, "  last probe: exit %d: %s\n", *d.ProbeExit, orDash(d.ProbeOutput))
	}
	if len(d.Logs) > 0 {
		fmt.Fprintf(w, "  last %d log lines:\n", len(d.Logs))
		for _, l := range d.Logs {
			fmt.Fprintf(w, "    | %s\n", l)
		}
	}
	if d.Cause != "" {
		fmt.Fprintf(w, "  cause (%s): %s\n", d.Cause, d.Explanation)
	}
	fmt.Fprintf(w, "  fix: %s\n", d.Fix)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func lastLinesOf(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return "  compose said:\n    " + strings.Join(lines, "\n    ")
}

// rerunCommand is the command line that repeats this run with the user's
// stack flags (for fixes).
func rerunCommand(f *Factory, verb string, args []string) string {
	parts := []string{"cdb-setup", verb}
	if f.Global.Repo != "" {
		parts = append(parts, "--repo", quoteArg(f.Global.Repo))
	}
	if f.Global.SecretsPath != "" {
		parts = append(parts, "--secrets-path", quoteArg(f.Global.SecretsPath))
	}
	if f.Global.ProjectName != "" {
		parts = append(parts, "--project-name", quoteArg(f.Global.ProjectName))
	}
	return strings.Join(append(parts, args...), " ")
}

func quoteArg(s string) string {
	if strings.ContainsAny(s, " \t'\"$") {
		return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
	}
	return s
}

// postChecks are the checks that only mean something once a service is
// ready: each mounted secret readable by its container's user, and the
// manifest's functional checks. They run per service as soon as it turns
// ready, in parallel with the wait for the others, so the last transition
// is followed only by its own service's checks (detection latency).
type postChecks struct {
	ctx   context.Context
	ls    *loadedStack
	api   *client.Client
	rerun string
	read  *stack.SecretReadability

	mu      sync.Mutex
	wg      sync.WaitGroup
	started map[string]string // service → container ID checked
	results map[string][]stack.CheckResult
}

func newPostChecks(ctx context.Context, ls *loadedStack, api *client.Client, rerun string) *postChecks {
	return &postChecks{ctx: ctx, ls: ls, api: api, rerun: rerun, read: &stack.SecretReadability{API: api}, started: map[string]string{}, results: map[string][]stack.CheckResult{}}
}

// Observe is called with every waiter update.
func (p *postChecks) Observe(services []stack.Service) {
	for _, s := range services {
		if s.Outcome != stack.Ready || s.ContainerID == "" {
			continue
		}
		p.mu.Lock()
		if p.started[s.Name] == s.ContainerID {
			p.mu.Unlock()
			continue
		}
		p.started[s.Name] = s.ContainerID
		p.mu.Unlock()
		p.wg.Add(1)
		go func(s stack.Service) {
			defer p.wg.Done()
			r := p.run(s)
			p.mu.Lock()
			if p.started[s.Name] == s.ContainerID {
				p.results[s.Name] = r
			}
			p.mu.Unlock()
		}(s)
	}
}

func (p *postChecks) run(s stack.Service) []stack.CheckResult {
	var out []stack.CheckResult
	if s.State == "running" { // one-shot services have exited: nothing to exec into
		for _, m := range p.ls.Model.Services[s.Name].Secrets {
			out = append(out, p.read.Check(p.ctx, s.Name, s.ContainerID, m))
		}
	}
	// Logins wait for the service as long as the waiter would (a healthy
	// postgres may still be running its init SQL on a socket-only server).
	var budget time.Duration
	if ci, err := p.api.ContainerInspect(p.ctx, s.ContainerID); err == nil {
		budget = stack.ContainerBudget(ci)
	}
	for _, c := range p.ls.Manifest.Checks {
		if c.Service != s.Name {
			continue
		}
		path := filepath.Join(p.ls.SecretsDir, c.Secret)
		out = append(out, stack.RunFunctional(p.ctx, c, path, p.rerun, p.ls.Manifest.Secrets[c.Secret].Volume, budget))
	}
	return out
}

// Results waits for the running checks, checks any service whose final
// container was not checked yet (recreated meanwhile), and returns every
// result in service order.
func (p *postChecks) Results(services []stack.Service) []stack.CheckResult {
	p.Observe(services)
	p.wg.Wait()
	var out []stack.CheckResult
	for _, s := range services {
		out = append(out, p.results[s.Name]...)
	}
	return out
}

// volumeName resolves a compose volume key (postgres_data) to the Engine's
// name (cdb_postgres_data); a full name is accepted too.
func volumeName(ls *loadedStack, v string) string {
	if n, ok := ls.Model.Volumes[v]; ok {
		return n
	}
	return v
}

// recreateSteps are the steps of --recreate-volume: each deletes one
// volume after an explicit yes (confirmRecreate), the containers using it
// removed first. Only these volumes; never `down -v`. A key the compose
// files do not define is a usage error.
func recreateSteps(ls *loadedStack, compose *stack.Compose, api *client.Client, keys []string) ([]step.Step, error) {
	var out []step.Step
	for _, k := range keys {
		n := volumeName(ls, k)
		if !strings.HasPrefix(n, ls.Inv.Project+"_") && n == k {
			if _, ok := ls.Model.Volumes[k]; !ok {
				return nil, exitcode.Usagef("--recreate-volume %s: the compose files define no volume %s (they have: %s)", k, k, strings.Join(sortedVolumeKeys(ls), ", "))
			}
		}
		out = append(out, &stack.RecreateVolumeStep{API: api, Compose: *compose, Inv: ls.Inv, Name: n, Loses: volumeLoses(ls, n)})
	}
	return out, nil
}

// volumeLoses says what deleting the volume named name loses: the data of
// the services that mount it and the passwords it was initialised with.
func volumeLoses(ls *loadedStack, name string) string {
	key := ""
	for k, n := range ls.Model.Volumes {
		if n == name {
			key = k
		}
	}
	if key == "" {
		return ""
	}
	var svcs, pws []string
	for _, svc := range ls.Project.Services {
		for _, v := range svc.Volumes {
			if v.Type == "volume" && v.Source == key {
				svcs = append(svcs, svc.Name)
				break
			}
		}
	}
	for secretName, sec := range ls.Manifest.Secrets {
		if sec.Volume == key {
			pws = append(pws, secretName)
		}
	}
	slices.Sort(svcs)
	slices.Sort(pws)
	s := ""
	if len(svcs) > 0 {
		s = "the data of " + strings.Join(svcs, ", ") + " stored in it"
	}
	if len(pws) > 0 {
		if s != "" {
			s += ", and "
		}
		s += "the password(s) it was initialised with (" + strings.Join(pws, ", ") + "); the start makes a fresh volume with the current secret files"
	}
	return s
}

// confirmRecreate shows what the --recreate-volume steps delete and asks
// (only --yes answers for the user); nothing to delete, nothing to ask.
func confirmRecreate(f *Factory, plans []step.Change) error {
	var deletes []step.Change
	for _, c := range plans {
		if strings.HasPrefix(c.Step, "stack.recreate-volume.") && !c.None {
			deletes = append(deletes, c)
		}
	}
	if len(deletes) == 0 {
		return nil
	}
	w := f.IO.ErrOut
	fmt.Fprintln(w, "--recreate-volume deletes data:")
	for _, c := range deletes {
		printChange(w, c)
	}
	ok, err := confirmYes(f, "Delete them?")
	if err != nil {
		return err
	}
	if !ok {
		return exitcode.New(exitcode.Failed, errors.New("not confirmed: nothing was deleted"))
	}
	return nil
}

func sortedVolumeKeys(ls *loadedStack) []string {
	var out []string
	for k := range ls.Model.Volumes {
		out = append(out, k)
	}
	return out
}

// confirmYes asks a yes/no question on the terminal. Only --yes answers
// yes; where cdb-setup cannot ask (--no-input, no terminal, CI, --json) the
// error names the flag (exit 3), so --no-input never confirms a deletion.
func confirmYes(f *Factory, q string) (bool, error) {
	if f.Global.Yes {
		return true, nil
	}
	if !f.CanPrompt() {
		return false, exitcode.New(exitcode.Environment, step.WithFix(
			fmt.Errorf("%q needs a confirmation and cdb-setup cannot ask (%s): nothing was deleted", q, whyNoPrompt(f)),
			"pass --yes to confirm"))
	}
	fmt.Fprintf(f.IO.ErrOut, "%s [y/N] ", q)
	line, err := bufio.NewReader(f.IO.In).ReadString('\n')
	if err != nil && line == "" {
		return false, nil
	}
	a := strings.ToLower(strings.TrimSpace(line))
	return a == "y" || a == "yes", nil
}
