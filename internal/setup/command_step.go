package setup

import (
	"context"
	"errors"

	"github.com/claire-de-binare/cdb-setup/internal/exitcode"
	"github.com/claire-de-binare/cdb-setup/internal/step"
)

// CommandStep runs a whole command (such as `up`, which prints its own live
// service table and waits for health) as one step of the wizard's plan.
// Its Plan lists it unless UpToDate says it has nothing to do; the command
// itself is idempotent and says after running whether it found its work
// done (`up` on a stack already running and healthy), so a re-run on a
// finished machine counts no change.
type CommandStep struct {
	StepID  string
	Summary string
	Targets []string
	// Run does the work and returns nil on success, with done true when it
	// found everything already in place and changed nothing; an error
	// carries its fix (step.WithFix) and, for Ctrl-C, context.Canceled.
	Run func(ctx context.Context) (done bool, err error)
	// Done is the detail after a change, AlreadyDone when nothing was to
	// do, Fix the fallback fix on failure.
	Done        string
	AlreadyDone string
	Fix         string
	// Talks: Run prints its own progress (no indicator is drawn over it).
	Talks bool
	// UpToDate, when set, asks at plan time whether the command would
	// change nothing (`up` on a healthy, unchanged stack): the plan then
	// lists no change and Apply reports "done" without running it. An error
	// means it cannot tell: the command runs.
	UpToDate func(ctx context.Context) (bool, error)

	// upToDate is the verdict of the plan just before Apply.
	upToDate bool
}

func (c *CommandStep) TalksWhileApplying() bool { return c.Talks }

func (c *CommandStep) ID() string { return c.StepID }

func (c *CommandStep) Plan(ctx context.Context) (step.Change, error) {
	c.upToDate = false
	if c.UpToDate != nil {
		ok, err := c.UpToDate(ctx)
		c.upToDate = ok && err == nil
	}
	if c.upToDate {
		return step.Change{Step: c.StepID, None: true, Summary: c.AlreadyDone, Targets: c.Targets}, nil
	}
	return step.Change{Step: c.StepID, Summary: c.Summary, Targets: c.Targets}, nil
}

func (c *CommandStep) Apply(ctx context.Context) (step.Result, error) {
	if c.upToDate {
		return step.Result{Step: c.StepID, Status: step.StatusDone, Detail: c.AlreadyDone}, nil
	}
	done, err := c.Run(ctx)
	switch {
	case err == nil && done:
		return step.Result{Step: c.StepID, Status: step.StatusDone, Detail: c.AlreadyDone}, nil
	case err == nil:
		return step.Result{Step: c.StepID, Status: step.StatusChanged, Detail: c.Done}, nil
	case errors.Is(err, context.Canceled) || exitcode.From(err) == exitcode.Interrupted || ctx.Err() != nil:
		return step.Failed(c.StepID, err, c.Fix), context.Canceled
	}
	fix := step.FixOf(err)
	if fix == "" {
		fix = c.Fix
	}
	return step.Failed(c.StepID, err, fix), nil
}
