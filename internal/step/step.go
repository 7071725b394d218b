// Package step is the one model for every change cdb-setup can make.
//
// A Step first plans (what it would change, touching nothing), then applies.
// The wizard, the subcommands, --dry-run and --json all run the same steps
// through Run, so what the user is shown is exactly what happens. Re-running
// is always safe: a step that finds its work done reports StatusDone and
// changes nothing.
//
// The rule of a run: every step is planned before any is applied, and if any
// Plan fails, nothing is applied (Report.NotApplied says so, and the caller
// says "nothing was changed" and why). A plan that cannot be made is a step
// whose effect cannot be shown, and a run that applies the others anyway
// leaves a half-changed state the user never saw (e.g. `secrets init
// --force` replacing two passwords while a third is a symlink it refuses).
// KeepGoing does not change this rule: it only lets the remaining steps
// apply after a step failed while applying (each step of the commands that
// set it stands alone, e.g. one secret mirrored into the keychain), and each
// failure is reported.
package step

import (
	"context"
	"errors"
	"fmt"
)

// Status is the outcome of one step.
type Status string

const (
	StatusDone    Status = "done"    // already in the desired state; nothing changed
	StatusChanged Status = "changed" // the step changed something
	StatusSkipped Status = "skipped" // not applicable or not wanted; Detail says why
	StatusFailed  Status = "failed"  // Detail says what went wrong, Fix how to repair it
)

// Change is what a step would do, shown before anything happens.
type Change struct {
	// Step is the step's ID, e.g. "secrets.write.REDIS_PASSWORD".
	Step string `json:"step"`
	// None is true when the step has nothing to do ("already done").
	None bool `json:"none"`
	// Summary is one human line: "create /home/u/Documents/.secrets/.cdb (0700)".
	Summary string `json:"summary"`
	// Targets lists what would be touched: files, registry keys, keychain
	// entries, containers. Never secret values.
	Targets []string `json:"targets,omitempty"`
}

// Result is what a step did.
type Result struct {
	Step   string `json:"step"`
	Status Status `json:"status"`
	// Detail is one human line: "REDIS_PASSWORD already exists (32 bytes)".
	Detail string `json:"detail"`
	// Fix is the exact command or action that repairs a failure.
	Fix string `json:"fix,omitempty"`
	// Fields are machine-readable facts for --json. Never secret values.
	Fields map[string]any `json:"fields,omitempty"`
	// Err is the underlying error of a failed step (not serialised; Detail
	// carries its text).
	Err error `json:"-"`
}

// Step is one change cdb-setup can make.
type Step interface {
	// ID names the step uniquely in a run, e.g. "secrets.folder".
	ID() string
	// Plan says what Apply would do, changing nothing.
	Plan(ctx context.Context) (Change, error)
	// Apply makes the change (or finds it done) and reports.
	Apply(ctx context.Context) (Result, error)
}

// Failed builds a failed Result from err, keeping the fix text.
func Failed(id string, err error, fix string) Result {
	return Result{Step: id, Status: StatusFailed, Detail: err.Error(), Fix: fix, Err: err}
}

// Fixer is implemented by errors that know the command that repairs them.
type Fixer interface {
	Fix() string
}

// FixError is an error with the exact fix attached.
type FixError struct {
	Err    error
	FixMsg string
}

func (e *FixError) Error() string { return e.Err.Error() }
func (e *FixError) Unwrap() error { return e.Err }
func (e *FixError) Fix() string   { return e.FixMsg }

// WithFix attaches a fix to err.
func WithFix(err error, fix string) error {
	if err == nil {
		return nil
	}
	return &FixError{Err: err, FixMsg: fix}
}

// FixOf returns the fix attached anywhere in err's chain, or "".
func FixOf(err error) string {
	var f Fixer
	if errors.As(err, &f) {
		return f.Fix()
	}
	return ""
}

// Options control a run.
type Options struct {
	// DryRun plans every step and applies none.
	DryRun bool
	// KeepGoing plans every step even after a Plan failed (so every such
	// failure is reported at once; nothing is applied either way) and applies
	// the remaining steps after one failed while applying. Without it the
	// run stops at the first failure and the remaining steps are not
	// attempted.
	KeepGoing bool
	// Confirm, when set, is called with every plan once all are made and
	// before anything is applied (not on a dry run, nor when a plan
	// failed): it shows what would be lost and asks. An error (not
	// confirmed, cannot ask) ends the run with nothing applied.
	Confirm func(plans []Change) error
	// OnPlan and OnResult are called as the run progresses (for live output).
	OnPlan   func(Change)
	OnResult func(Result)
	// OnApply, when set, is called as each step starts applying, with its
	// plan; the function it returns (may be nil) is called when the step
	// returns. The CLI shows a long step is alive with it.
	OnApply func(s Step, c Change) (finished func())
}

// Talker is a step that prints its own progress while it applies (up's
// preflight and live service table): callers draw no indicator over it.
type Talker interface {
	TalksWhileApplying() bool
}

// Talks reports whether s prints its own progress.
func Talks(s Step) bool {
	t, ok := s.(Talker)
	return ok && t.TalksWhileApplying()
}

// Report is the outcome of a run.
type Report struct {
	Plans   []Change `json:"plan"`
	Results []Result `json:"results"`
	// Interrupted is true when the context was cancelled part-way; Results
	// then lists exactly what was applied before the interruption.
	Interrupted bool `json:"interrupted,omitempty"`
	// NotApplied is true when a Plan failed and therefore no step was
	// applied (DryRun runs apply nothing anyway and leave it false).
	NotApplied bool `json:"not_applied,omitempty"`
}

// Failed reports whether any step failed.
func (r Report) Failed() bool {
	for _, res := range r.Results {
		if res.Status == StatusFailed {
			return true
		}
	}
	return false
}

// Run plans every step, then (unless DryRun or a Plan failed) applies them in
// order. It stops between steps when ctx is cancelled: a step is never abandoned half-way by
// Run itself, so each effect is either made or not.
func Run(ctx context.Context, steps []Step, opts Options) (Report, error) {
	var rep Report
	for _, s := range steps {
		if err := ctx.Err(); err != nil {
			rep.Interrupted = true
			return rep, err
		}
		c, err := s.Plan(ctx)
		if err != nil {
			if ctx.Err() != nil {
				rep.Interrupted = true
				return rep, ctx.Err()
			}
			res := Failed(s.ID(), fmt.Errorf("plan: %w", err), FixOf(err))
			rep.Results = append(rep.Results, res)
			if opts.OnResult != nil {
				opts.OnResult(res)
			}
			if !opts.KeepGoing {
				break
			}
			continue
		}
		if c.Step == "" {
			c.Step = s.ID()
		}
		rep.Plans = append(rep.Plans, c)
		if opts.OnPlan != nil {
			opts.OnPlan(c)
		}
	}
	if rep.Failed() {
		// A Plan failed: nothing is applied (the package doc says why).
		rep.NotApplied = !opts.DryRun
		return rep, nil
	}
	if opts.DryRun {
		return rep, nil
	}
	if opts.Confirm != nil {
		if err := opts.Confirm(rep.Plans); err != nil {
			rep.NotApplied = true
			if ctx.Err() != nil {
				rep.Interrupted = true
			}
			return rep, err
		}
	}
	for i, s := range steps {
		if err := ctx.Err(); err != nil {
			rep.Interrupted = true
			return rep, err
		}
		var finished func()
		if opts.OnApply != nil {
			// Every plan was made (none failed), so Plans[i] is this step's.
			finished = opts.OnApply(s, rep.Plans[i])
		}
		res, err := s.Apply(ctx)
		if finished != nil {
			finished()
		}
		if err != nil {
			if res.Step == "" || res.Status != StatusFailed {
				res = Failed(s.ID(), err, FixOf(err))
			}
		}
		if res.Step == "" {
			res.Step = s.ID()
		}
		if errors.Is(err, context.Canceled) {
			// Ctrl-C stopped this step part-way: an interruption, not a
			// failure with a fix. It stays in Results (the caller says it
			// was interrupted) but is not reported as a failed step.
			res.Fix = ""
			if !errors.Is(res.Err, context.Canceled) {
				res.Err = errors.Join(res.Err, err) // callers tell it apart by this
			}
			rep.Results = append(rep.Results, res)
			rep.Interrupted = true
			return rep, err
		}
		rep.Results = append(rep.Results, res)
		if opts.OnResult != nil {
			opts.OnResult(res)
		}
		if res.Status == StatusFailed && !opts.KeepGoing {
			break
		}
	}
	return rep, nil
}
