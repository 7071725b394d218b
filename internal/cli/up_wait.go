package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/docker/docker/client"

	"github.com/claire-de-binare/cdb-setup/internal/checks"
	"github.com/claire-de-binare/cdb-setup/internal/exitcode"
	"github.com/claire-de-binare/cdb-setup/internal/stack"
	"github.com/claire-de-binare/cdb-setup/internal/step"
)

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

// TalksWhileApplying: the live table shows the start.
func (u *upStartStep) TalksWhileApplying() bool { return true }

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
	post := newPostChecks(ctx, u.ls, u.api, u.rerun)
	res, composeText, err := u.wait(ctx, post)
	if err != nil {
		return err
	}
	if len(res.Failed()) == 0 && res.ComposeErr == nil {
		return u.afterHealthy(res, post)
	}
	return u.explainFailure(ctx, res, composeText)
}

// wait starts compose and follows the Engine's events until every target
// is ready or one failed (a failure is not an error here: res says it).
// composeText is compose's output, for the diagnosis.
func (u *upStartStep) wait(ctx context.Context, post *postChecks) (res stack.WaitResult, composeText string, err error) {
	f, opts, ls, compose, rep, rerun := u.f, u.opts, u.ls, u.compose, u.rep, u.rerun
	w := f.IO.ErrOut
	sub := u.sub()
	// Wait and start: the waiter subscribes to events first and starts
	// compose only then, so no transition can slip between the two.
	scr := screenOf(f.IO, f.Env)
	table := newLiveTable(w, scr.Redraw, scr.Color)
	table.size = f.IO.Size
	composeDone := make(chan error, 1)
	composeFinished := make(chan struct{})
	var composeOut string
	upCtx, cancelCompose := context.WithCancel(ctx)
	defer cancelCompose()
	// compose's output feeds the table's "building image…" rows, and the
	// terminal too with --verbose.
	composeLog := io.Writer(newBuildWatcher(table, ls.Targets))
	if f.Global.Verbose {
		composeLog = io.MultiWriter(w, composeLog)
	}
	printWrapped(w, "  ", "Starting: %s", compose.CommandLine(ls.Inv, sub...))
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
	// A volume that did not exist at preflight was initialised by this
	// start with the password the file held then, whatever happens next.
	if opts.pf != nil {
		if vols, err := opts.pf.RecordFresh(ctx); err != nil {
			fmt.Fprintf(w, "! could not record which password %s was initialised with: %v\n", strings.Join(vols, ", "), err)
		}
	}
	if werr != nil {
		if ctx.Err() != nil {
			rep.Interrupted = true
			fmt.Fprintln(w, "Interrupted: the stack was left as it is (containers already started keep running).")
			fmt.Fprintf(w, "  `%s` waits again; `%s` stops it.\n", rerun, rerunCommand(f, "down", opts.Stack.args()))
			return res, "", SilentError(exitcode.Interrupted)
		}
		return res, "", err2(werr)
	}
	// Stop a compose still blocked on depends_on once the outcome is known,
	// and let it exit (it was interrupted, not killed) before reading its output.
	cancelCompose()
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
	return res, composeText, nil
}

// afterHealthy reports the healthy stack and runs the post-start checks
// (a healthcheck can pass while a password is wrong): a failed one fails up.
func (u *upStartStep) afterHealthy(res stack.WaitResult, post *postChecks) error {
	w, rep := u.f.IO.ErrOut, u.rep
	fmt.Fprintf(w, "✓ all %d services healthy in %.1fs\n", len(res.Services), time.Since(u.start).Seconds())
	raw := post.Results(res.Services)
	rep.Checks = checks.FromStackAll(raw)
	for _, c := range rep.Checks {
		printCheck(w, c)
	}
	if u.opts.pf != nil {
		for _, c := range raw {
			// A login that worked settles which password its volume holds.
			if name, ok := loginSecret(u.ls, c); ok && c.OK && !c.Skipped {
				_ = u.opts.pf.RecordLogin(u.f.ctx(), name)
			}
		}
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

// explainFailure diagnoses each failed service (probe output, logs, the
// recognised cause and its fix), prints it, and returns up's error: the
// failed services and the first diagnosis's fix.
func (u *upStartStep) explainFailure(ctx context.Context, res stack.WaitResult, composeText string) error {
	f, opts, ls, rep, rerun := u.f, u.opts, u.ls, u.rep, u.rerun
	w := f.IO.ErrOut
	failedSvcs := res.Failed()
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
