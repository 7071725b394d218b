package setup

import (
	"context"
	"errors"

	"github.com/claire-de-binare/cdb-setup/internal/exitcode"
	"github.com/claire-de-binare/cdb-setup/internal/step"
)

// CommandStep runs a whole command (such as `up`, which prints its own live
// service table and waits for health) as one step of the wizard's plan.
// Its Plan cannot know whether the command has work to do, so it always
// lists it; the command itself is idempotent and says after running whether
// it found its work done (`up` on a stack already running and healthy), so
// a re-run on a finished machine counts no change.
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
}

func (c *CommandStep) TalksWhileApplying() bool { return c.Talks }

func (c *CommandStep) ID() string { return c.StepID }

func (c *CommandStep) Plan(context.Context) (step.Change, error) {
	return step.Change{Step: c.StepID, Summary: c.Summary, Targets: c.Targets}, nil
}

func (c *CommandStep) Apply(ctx context.Context) (step.Result, error) {
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
