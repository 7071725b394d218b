package setup

import (
	"context"
	"errors"
	"testing"

	"github.com/claire-de-binare/cdb-setup/internal/step"
)

func TestCommandStep(t *testing.T) {
	ok := &CommandStep{StepID: "stack.up", Summary: "start", Done: "the stack is healthy", Run: func(context.Context) (bool, error) { return false, nil }}
	if r, err := ok.Apply(context.Background()); err != nil || r.Status != step.StatusChanged || r.Detail != "the stack is healthy" {
		t.Errorf("%+v %v", r, err)
	}
	already := &CommandStep{StepID: "stack.up", Done: "started", AlreadyDone: "already running and healthy", Run: func(context.Context) (bool, error) { return true, nil }}
	if r, err := already.Apply(context.Background()); err != nil || r.Status != step.StatusDone || r.Detail != "already running and healthy" {
		t.Errorf("%+v %v", r, err)
	}
	bad := &CommandStep{StepID: "stack.up", Fix: "cdb-setup up", Run: func(context.Context) (bool, error) {
		return false, step.WithFix(errors.New("cdb_redis unhealthy"), "cdb-setup doctor")
	}}
	if r, _ := bad.Apply(context.Background()); r.Status != step.StatusFailed || r.Fix != "cdb-setup doctor" {
		t.Errorf("%+v", r)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	stop := &CommandStep{StepID: "stack.up", Run: func(ctx context.Context) (bool, error) { return false, ctx.Err() }}
	rep, err := step.Run(ctx, []step.Step{stop}, step.Options{})
	if !errors.Is(err, context.Canceled) || !rep.Interrupted {
		t.Errorf("%+v %v", rep, err)
	}
}

// An up-to-date command is no change in the plan and is not run; when the
// check cannot tell (an error) or says no, the command runs.
func TestCommandStepUpToDate(t *testing.T) {
	ran := 0
	run := func(context.Context) (bool, error) { ran++; return false, nil }
	fresh := &CommandStep{StepID: "stack.up", Summary: "start", AlreadyDone: "already running", Run: run,
		UpToDate: func(context.Context) (bool, error) { return true, nil }}
	rep, err := step.Run(context.Background(), []step.Step{fresh}, step.Options{})
	if err != nil || len(rep.Plans) != 1 || !rep.Plans[0].None || rep.Results[0].Status != step.StatusDone || ran != 0 {
		t.Fatalf("up to date: %+v %v, ran %d", rep, err, ran)
	}
	for _, check := range []func(context.Context) (bool, error){
		func(context.Context) (bool, error) { return false, nil },
		func(context.Context) (bool, error) { return true, errors.New("cannot tell") },
	} {
		ran = 0
		s := &CommandStep{StepID: "stack.up", Summary: "start", Done: "started", Run: run, UpToDate: check}
		rep, err := step.Run(context.Background(), []step.Step{s}, step.Options{})
		if err != nil || rep.Plans[0].None || rep.Results[0].Status != step.StatusChanged || ran != 1 {
			t.Errorf("not up to date: %+v %v, ran %d", rep, err, ran)
		}
	}
}
