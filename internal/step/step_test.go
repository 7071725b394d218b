package step

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
)

// fakeStep records what the runner asked of it. It is a test double for
// the runner's own logic, not for any OS effect.
type fakeStep struct {
	id       string
	planNone bool
	planErr  error
	apply    Status
	applyErr error
	onApply  func()
	log      *[]string
}

func (s *fakeStep) ID() string { return s.id }

func (s *fakeStep) Plan(ctx context.Context) (Change, error) {
	*s.log = append(*s.log, "plan "+s.id)
	return Change{None: s.planNone, Summary: "change " + s.id}, s.planErr
}

func (s *fakeStep) Apply(ctx context.Context) (Result, error) {
	*s.log = append(*s.log, "apply "+s.id)
	if s.onApply != nil {
		s.onApply()
	}
	if s.applyErr != nil {
		return Result{}, s.applyErr
	}
	return Result{Status: s.apply, Detail: s.id + " " + string(s.apply)}, nil
}

func TestRunPlansEverythingBeforeApplyingAnything(t *testing.T) {
	var log []string
	steps := []Step{
		&fakeStep{id: "a", apply: StatusChanged, log: &log},
		&fakeStep{id: "b", planNone: true, apply: StatusDone, log: &log},
	}
	rep, err := Run(context.Background(), steps, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"plan a", "plan b", "apply a", "apply b"}; !reflect.DeepEqual(log, want) {
		t.Errorf("order = %v, want %v", log, want)
	}
	if len(rep.Plans) != 2 || rep.Plans[0].Step != "a" || !rep.Plans[1].None {
		t.Errorf("plans = %+v", rep.Plans)
	}
	if len(rep.Results) != 2 || rep.Results[0].Step != "a" || rep.Failed() {
		t.Errorf("results = %+v", rep.Results)
	}
}

func TestRunDryRunAppliesNothing(t *testing.T) {
	var log []string
	var planned []string
	rep, err := Run(context.Background(), []Step{&fakeStep{id: "a", log: &log}}, Options{
		DryRun: true, OnPlan: func(c Change) { planned = append(planned, c.Step) },
	})
	if err != nil || len(rep.Results) != 0 {
		t.Fatalf("dry run: %v %+v", err, rep.Results)
	}
	if !reflect.DeepEqual(log, []string{"plan a"}) || !reflect.DeepEqual(planned, []string{"a"}) {
		t.Errorf("log %v planned %v", log, planned)
	}
}

func TestRunStopsAtFirstFailureUnlessKeepGoing(t *testing.T) {
	for _, keepGoing := range []bool{false, true} {
		var log []string
		boom := WithFix(errors.New("disk full"), "free some space")
		steps := []Step{
			&fakeStep{id: "a", applyErr: boom, log: &log},
			&fakeStep{id: "b", apply: StatusChanged, log: &log},
		}
		rep, err := Run(context.Background(), steps, Options{KeepGoing: keepGoing})
		if err != nil {
			t.Fatal(err)
		}
		if !rep.Failed() || rep.Results[0].Fix != "free some space" || rep.Results[0].Detail != "disk full" {
			t.Errorf("keepGoing=%v: first result %+v", keepGoing, rep.Results[0])
		}
		applied := len(rep.Results)
		if keepGoing && applied != 2 || !keepGoing && applied != 1 {
			t.Errorf("keepGoing=%v: %d results (%v)", keepGoing, applied, log)
		}
	}
}

// TestRunPlanFailureAppliesNothing: whether or not KeepGoing is set, a
// failed Plan means no step is applied: not the ones before it, not the ones
// after it, not itself. With KeepGoing every plan failure is still reported.
func TestRunPlanFailureAppliesNothing(t *testing.T) {
	for _, keepGoing := range []bool{false, true} {
		var log []string
		steps := []Step{
			&fakeStep{id: "a", apply: StatusChanged, log: &log},
			&fakeStep{id: "b", planErr: WithFix(errors.New("REDIS_PASSWORD is a symlink"), "replace the link with a file"), apply: StatusChanged, log: &log},
			&fakeStep{id: "c", apply: StatusChanged, log: &log},
			&fakeStep{id: "d", planErr: errors.New("compose file malformed"), apply: StatusChanged, log: &log},
		}
		rep, err := Run(context.Background(), steps, Options{KeepGoing: keepGoing})
		if err != nil {
			t.Fatal(err)
		}
		if !rep.Failed() || !rep.NotApplied {
			t.Fatalf("keepGoing=%v: plan failure not reported: %+v", keepGoing, rep)
		}
		for _, l := range log {
			if strings.HasPrefix(l, "apply ") {
				t.Errorf("keepGoing=%v: %s although a plan failed", keepGoing, l)
			}
		}
		if rep.Results[0].Step != "b" || rep.Results[0].Fix != "replace the link with a file" {
			t.Errorf("keepGoing=%v: first failure %+v", keepGoing, rep.Results[0])
		}
		want := 1
		if keepGoing {
			want = 2 // every plan failure is reported
		}
		if len(rep.Results) != want {
			t.Errorf("keepGoing=%v: %d results, want %d: %+v", keepGoing, len(rep.Results), want, rep.Results)
		}
	}
}

func TestRunDryRunWithPlanFailureIsNotNotApplied(t *testing.T) {
	var log []string
	rep, _ := Run(context.Background(), []Step{&fakeStep{id: "a", planErr: errors.New("x"), log: &log}}, Options{DryRun: true})
	if !rep.Failed() || rep.NotApplied {
		t.Errorf("dry run: %+v", rep)
	}
}

func TestRunInterruptedBetweenStepsListsWhatWasApplied(t *testing.T) {
	var log []string
	ctx, cancel := context.WithCancel(context.Background())
	steps := []Step{
		&fakeStep{id: "a", apply: StatusChanged, log: &log, onApply: cancel},
		&fakeStep{id: "b", apply: StatusChanged, log: &log},
	}
	rep, err := Run(ctx, steps, Options{})
	if !errors.Is(err, context.Canceled) || !rep.Interrupted {
		t.Fatalf("err %v interrupted %v", err, rep.Interrupted)
	}
	if len(rep.Results) != 1 || rep.Results[0].Step != "a" {
		t.Errorf("results = %+v, want exactly the step that completed", rep.Results)
	}
	for _, l := range log {
		if l == "apply b" {
			t.Error("b was started after the interrupt")
		}
	}
}

func TestFixOf(t *testing.T) {
	err := WithFix(errors.New("docker is not running"), "start Docker Desktop")
	wrapped := errors.Join(errors.New("up"), err)
	if FixOf(wrapped) != "start Docker Desktop" || FixOf(errors.New("x")) != "" || WithFix(nil, "x") != nil {
		t.Error("FixOf/WithFix")
	}
}

// Confirm sees every plan before anything is applied; refusing applies none.
func TestRunConfirmBeforeApplying(t *testing.T) {
	var log []string
	steps := []Step{&fakeStep{id: "a", apply: StatusChanged, log: &log}, &fakeStep{id: "b", apply: StatusChanged, log: &log}}
	no := errors.New("not confirmed")
	var seen []string
	rep, err := Run(context.Background(), steps, Options{Confirm: func(plans []Change) error {
		for _, p := range plans {
			seen = append(seen, p.Step)
		}
		log = append(log, "confirm")
		return no
	}})
	if !errors.Is(err, no) || !rep.NotApplied || len(rep.Results) != 0 {
		t.Fatalf("err %v, report %+v", err, rep)
	}
	if want := []string{"plan a", "plan b", "confirm"}; !reflect.DeepEqual(log, want) || !reflect.DeepEqual(seen, []string{"a", "b"}) {
		t.Fatalf("log %v, seen %v", log, seen)
	}
	log = nil
	rep, err = Run(context.Background(), steps, Options{Confirm: func([]Change) error { return nil }})
	if err != nil || len(rep.Results) != 2 || log[len(log)-1] != "apply b" {
		t.Fatalf("confirmed run: %v %+v %v", err, rep, log)
	}
	log = nil
	if _, err := Run(context.Background(), steps, Options{DryRun: true, Confirm: func([]Change) error { t.Fatal("dry run asked"); return nil }}); err != nil {
		t.Fatal(err)
	}
}

// Issue 14: Ctrl-C stopping a step part-way is an interruption, not a
// failed step with a generic fix.
func TestRunInterruptedInsideAStepIsNotAFailure(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	s := interruptedStep{cancel: cancel}
	var printed []Result
	rep, err := Run(ctx, []Step{s, &fakeStep{id: "b", apply: StatusChanged, log: &[]string{}}}, Options{OnResult: func(r Result) { printed = append(printed, r) }})
	if !errors.Is(err, context.Canceled) || !rep.Interrupted {
		t.Fatalf("err %v interrupted %v", err, rep.Interrupted)
	}
	if len(printed) != 0 {
		t.Errorf("the interrupted step was reported as a result: %+v", printed)
	}
	if len(rep.Results) != 1 || rep.Results[0].Fix != "" || !errors.Is(rep.Results[0].Err, context.Canceled) {
		t.Errorf("results = %+v, want the interrupted step without a fix", rep.Results)
	}
}

type interruptedStep struct{ cancel func() }

func (interruptedStep) ID() string { return "up" }
func (interruptedStep) Plan(context.Context) (Change, error) {
	return Change{Step: "up", Summary: "start"}, nil
}
func (s interruptedStep) Apply(ctx context.Context) (Result, error) {
	s.cancel()
	return Failed("up", errors.New("compose up: signal: interrupt"), "cdb-setup up --profile dev"), context.Canceled
}

// OnApply brackets each step's Apply with its own plan (the CLI's "still
// working" indicator), in order, and its finish runs before OnResult.
func TestRunOnApplyBracketsEachApply(t *testing.T) {
	var log []string
	steps := []Step{&fakeStep{id: "a", apply: StatusChanged, log: &log}, &fakeStep{id: "b", apply: StatusDone, log: &log}}
	_, err := Run(context.Background(), steps, Options{
		OnApply: func(s Step, c Change) func() {
			log = append(log, "start "+s.ID()+" ("+c.Summary+")")
			return func() { log = append(log, "finish "+s.ID()) }
		},
		OnResult: func(r Result) { log = append(log, "result "+r.Step) },
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"plan a", "plan b", "start a (change a)", "apply a", "finish a", "result a", "start b (change b)", "apply b", "finish b", "result b"}
	if !reflect.DeepEqual(log, want) {
		t.Errorf("got  %v\nwant %v", log, want)
	}
}
