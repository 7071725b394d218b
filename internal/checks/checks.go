// Package checks is cdb-setup's one check vocabulary: the checks `cdb-setup
// up` runs before starting the stack (Preflight), the checks `cdb-setup
// doctor` lists (Doctor: the machine, the secrets folder and files, the
// keychain, SECRETS_PATH, the state file, the hook, plus the preflight), and
// the mapping of the stack's post-start checks (FromStack). Each check has an
// ID, a title, and a Run that returns ok, warn, fail (or skip) with a
// one-line detail and the exact fix; an Outcome is a check with its result,
// as printed (cli's printCheck) and as reported under --json.
package checks

import (
	"context"
	"time"
)

// Status is a check's verdict.
type Status string

const (
	OK   Status = "ok"   // ✓
	Warn Status = "warn" // ! works, but something will bite later
	Fail Status = "fail" // ✗ setup or the stack is broken here
	// Skip (-): does not apply on this machine, could not be known here, or
	// could not run because something it needs failed first.
	Skip Status = "skip"
	// Info (•): a fact worth knowing with nothing to fix (a new terminal
	// is all SECRETS_PATH needs; the stack's state is unknown): not a
	// warning, never counted as a problem, always shown.
	Info Status = "info"
)

// Result is what a check found.
type Result struct {
	Status Status `json:"status"`
	// Detail is one line on what was found; never a secret value.
	Detail string `json:"detail"`
	// Fix is the exact command or action; empty when Status is ok.
	Fix string `json:"fix,omitempty"`
	// Missing marks a failure of the environment (Docker not running):
	// exit code 3 rather than 1.
	Missing bool `json:"environment_missing,omitempty"`
}

// Check is one check.
type Check struct {
	ID    string
	Title string
	Run   func(ctx context.Context) Result
	// Needs is the ID of a check listed before this one that must finish
	// before this one starts (RunConcurrently); empty: none.
	Needs string
}

// Outcome is a check with its result, as reported.
type Outcome struct {
	ID    string `json:"id"`
	Title string `json:"title"`
	// Service is the compose service a post-start check looked at.
	Service string `json:"service,omitempty"`
	Result  `json:",inline"`
}

// checkTimeout bounds each check so one hung call (an Engine that does not
// answer, a locked keychain) cannot stall the rest.
const checkTimeout = 60 * time.Second

// RunAll runs the checks in order, each bounded by checkTimeout. A failing
// check never stops the others (doctor's job is to list everything that is
// wrong at once; the preflight's dependent checks skip themselves); only an
// interruption (ctx cancelled) ends the run early. onResult, if set, sees
// each outcome as it is known (for live output).
func RunAll(ctx context.Context, list []Check, onResult func(Outcome)) []Outcome {
	out := make([]Outcome, 0, len(list))
	for _, c := range list {
		if ctx.Err() != nil {
			break
		}
		o := runOne(ctx, c)
		out = append(out, o)
		if onResult != nil {
			onResult(o)
		}
	}
	return out
}

func runOne(ctx context.Context, c Check) Outcome {
	cctx, cancel := context.WithTimeout(ctx, checkTimeout)
	defer cancel()
	return Outcome{ID: c.ID, Title: c.Title, Result: c.Run(cctx)}
}

// RunConcurrently runs the checks at the same time, except that a check
// whose Needs names an earlier check of the list starts only when that one
// has finished (it uses what the earlier one found, like the Engine
// client): the slow checks (an Engine round trip, Compose's version, each
// login shell, git) overlap instead of adding up. The outcomes, and the
// calls of onResult, are in the list's order, as RunAll's; after an
// interruption no further check starts.
func RunConcurrently(ctx context.Context, list []Check, onResult func(Outcome)) []Outcome {
	index := make(map[string]int, len(list))
	done := make([]chan struct{}, len(list))
	outs := make([]Outcome, len(list))
	ran := make([]bool, len(list))
	for i, c := range list {
		done[i] = make(chan struct{})
		if _, dup := index[c.ID]; !dup {
			index[c.ID] = i
		}
	}
	for i, c := range list {
		go func() {
			defer close(done[i])
			// Only an earlier check can be waited for: no cycle can hang.
			if j, ok := index[c.Needs]; ok && c.Needs != "" && j < i {
				<-done[j]
			}
			if ctx.Err() != nil {
				return
			}
			outs[i], ran[i] = runOne(ctx, c), true
		}()
	}
	out := make([]Outcome, 0, len(list))
	for i := range list {
		<-done[i]
		if !ran[i] {
			continue
		}
		out = append(out, outs[i])
		if onResult != nil {
			onResult(outs[i])
		}
	}
	return out
}

// Count tallies the outcomes by status.
func Count(outs []Outcome) map[Status]int {
	n := map[Status]int{}
	for _, o := range outs {
		n[o.Status]++
	}
	return n
}

// Failed reports whether any outcome failed, and whether a failure is the
// environment's (exit 3).
func Failed(outs []Outcome) (failed, missing bool) {
	for _, o := range outs {
		if o.Status == Fail {
			failed = true
			if o.Missing {
				missing = true
			}
		}
	}
	return failed, missing
}

func ok(detail string) Result        { return Result{Status: OK, Detail: detail} }
func warn(detail, fix string) Result { return Result{Status: Warn, Detail: detail, Fix: fix} }
func fail(detail, fix string) Result { return Result{Status: Fail, Detail: detail, Fix: fix} }
func skip(detail string) Result      { return Result{Status: Skip, Detail: detail} }
func info(detail string) Result      { return Result{Status: Info, Detail: detail} }
