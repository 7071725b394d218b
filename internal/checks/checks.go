// Package checks holds the checks `cdb-setup up` runs before starting the
// stack and `cdb-setup doctor` lists: each has an ID, a title, and a Run that
// returns ok, warn, fail (or skip) with a one-line detail and the exact fix.
package checks

import (
	"context"
	"time"
)

// Status is a check's verdict.
type Status string

const (
	OK   Status = "ok"
	Warn Status = "warn"
	Fail Status = "fail"
	// Skip: could not run because something it needs failed first.
	Skip Status = "skip"
)

// Result is what a check found.
type Result struct {
	Status Status `json:"status"`
	Detail string `json:"detail"`
	Fix    string `json:"fix,omitempty"`
	// Missing marks a failure of the environment (Docker not running):
	// exit code 3 rather than 1.
	Missing bool `json:"environment_missing,omitempty"`
}

// Check is one check.
type Check struct {
	ID    string
	Title string
	Run   func(ctx context.Context) Result
}

// Outcome is a check with its result, as reported.
type Outcome struct {
	ID     string `json:"id"`
	Title  string `json:"title"`
	Result `json:",inline"`
}

// RunAll runs the checks in order, each bounded so one hung call cannot
// stall the rest.
func RunAll(ctx context.Context, list []Check, onResult func(Outcome)) []Outcome {
	out := make([]Outcome, 0, len(list))
	for _, c := range list {
		cctx, cancel := context.WithTimeout(ctx, 60*time.Second)
		r := c.Run(cctx)
		cancel()
		o := Outcome{ID: c.ID, Title: c.Title, Result: r}
		out = append(out, o)
		if onResult != nil {
			onResult(o)
		}
	}
	return out
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
