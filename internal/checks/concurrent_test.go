package checks

import (
	"context"
	"sync/atomic"
	"testing"
)

// TestRunConcurrentlyOverlapsAndKeepsOrder: two independent checks run at
// the same time (each waits for the other to have started, which a
// one-after-the-other run could never satisfy), a check that Needs an
// earlier one sees what that one found, and the outcomes come in the list's
// order, each reported once to onResult.
func TestRunConcurrentlyOverlapsAndKeepsOrder(t *testing.T) {
	aStarted, bStarted := make(chan struct{}), make(chan struct{})
	var found atomic.Value
	// Run one after the other, the first would wait until its checkTimeout
	// and fail.
	wait := func(ctx context.Context, ch chan struct{}) Result {
		select {
		case <-ch:
			return ok("overlapped")
		case <-ctx.Done():
			return fail("never overlapped", "")
		}
	}
	list := []Check{
		{ID: "a", Run: func(ctx context.Context) Result { close(aStarted); return wait(ctx, bStarted) }},
		{ID: "b", Run: func(ctx context.Context) Result { close(bStarted); return wait(ctx, aStarted) }},
		{ID: "engine", Run: func(context.Context) Result { found.Store("client"); return ok("") }},
		{ID: "uses-engine", Needs: "engine", Run: func(context.Context) Result {
			if v, _ := found.Load().(string); v != "client" {
				return fail("ran before the check it needs", "")
			}
			return ok("")
		}},
		// A Needs that names a later (or unknown) check cannot hang the run.
		{ID: "odd", Needs: "later", Run: func(context.Context) Result { return ok("") }},
		{ID: "later", Needs: "odd", Run: func(context.Context) Result { return ok("") }},
	}
	var seen []string
	out := RunConcurrently(context.Background(), list, func(o Outcome) { seen = append(seen, o.ID) })
	if len(out) != len(list) {
		t.Fatalf("%d outcomes, want %d", len(out), len(list))
	}
	for i, o := range out {
		if o.ID != list[i].ID || seen[i] != o.ID {
			t.Fatalf("outcome %d is %s (reported %s), want %s", i, o.ID, seen[i], list[i].ID)
		}
		if o.Status != OK {
			t.Errorf("%s: %s %s", o.ID, o.Status, o.Detail)
		}
	}
}

// TestRunConcurrentlyStopsAfterInterrupt: once the context is cancelled no
// further check starts; the ones that ran are reported.
func TestRunConcurrentlyStopsAfterInterrupt(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var ranAfter atomic.Bool
	list := []Check{
		{ID: "interrupt", Run: func(context.Context) Result { cancel(); return ok("") }},
		{ID: "after", Needs: "interrupt", Run: func(context.Context) Result { ranAfter.Store(true); return ok("") }},
	}
	out := RunConcurrently(ctx, list, nil)
	if ranAfter.Load() || len(out) != 1 || out[0].ID != "interrupt" {
		t.Fatalf("ran after the interruption: %v %+v", ranAfter.Load(), out)
	}
}
