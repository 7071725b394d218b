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
