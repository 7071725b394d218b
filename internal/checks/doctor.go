// Package doctor holds the checks of `cdb-setup doctor`: each looks at one
// thing, changes nothing, and says ok, warn or fail with the exact fix.
//
// It lives apart from internal/checks (the stack's preflight checks) only
// until that package's Check type is on main; the shapes match (ID, Title,
// Run → status, detail, fix) so the two can be joined.
package checks

import (
	"context"

	"github.com/claire-de-binare/cdb-setup/internal/platform"
	"github.com/claire-de-binare/cdb-setup/internal/secrets"
	"github.com/claire-de-binare/cdb-setup/internal/workspace"
)

// Status is a check's verdict.
type Status string

const (
	OK   Status = "ok"   // ✓
	Warn Status = "warn" // ! works, but something will bite later
	Fail Status = "fail" // ✗ setup or the stack is broken here
	Skip Status = "skip" // does not apply on this machine, or not available
)

// Result is what one check found.
type Result struct {
	ID     string `json:"id"`
	Title  string `json:"title"`
	Status Status `json:"status"`
	// Detail is one line on what was found; never a secret value.
	Detail string `json:"detail"`
	// Fix is the exact command or action; empty when Status is ok.
	Fix string `json:"fix,omitempty"`
}

// Check is one thing doctor looks at.
type Check struct {
	ID    string
	Title string
	Run   func(ctx context.Context) Result
}

// Env is what the checks look at, detected once by the caller.
type Env struct {
	// Workspace is where everything is: facts, repo (RepoErr when none),
	// manifest, the secrets folder doctor checks and where that choice came
	// from, the project, the state folder.
	*workspace.Workspace
	Env platform.Environment
	// Keychain is the OS keychain (nil: the real one, bounded by a timeout).
	Keychain *secrets.Keychain
	// Stack are the stack's own checks (Docker, Compose, .env, ports,
	// images), built by the caller from internal/checks; shown after the
	// repository line.
	Stack []Check
}

// RunAll runs checks in order. A check never stops the others: doctor's job
// is to list everything that is wrong at once.
func RunAll(ctx context.Context, checks []Check) []Result {
	out := make([]Result, 0, len(checks))
	for _, c := range checks {
		if ctx.Err() != nil {
			break
		}
		r := c.Run(ctx)
		if r.ID == "" {
			r.ID = c.ID
		}
		if r.Title == "" {
			r.Title = c.Title
		}
		out = append(out, r)
	}
	return out
}

// Count tallies the results by status.
func Count(rs []Result) map[Status]int {
	n := map[Status]int{}
	for _, r := range rs {
		n[r.Status]++
	}
	return n
}

func ok(detail string) Result        { return Result{Status: OK, Detail: detail} }
func warn(detail, fix string) Result { return Result{Status: Warn, Detail: detail, Fix: fix} }
func fail(detail, fix string) Result { return Result{Status: Fail, Detail: detail, Fix: fix} }
func skip(detail string) Result      { return Result{Status: Skip, Detail: detail} }
func check(id, title string, run func(ctx context.Context) Result) Check {
	return Check{ID: id, Title: title, Run: run}
}
