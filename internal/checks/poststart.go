package checks

import "github.com/claire-de-binare/cdb-setup/internal/stack"

// FromStack maps one of the stack's post-start checks (a secret readable by
// its container's user, a login with the password from the secret file) onto
// this vocabulary: ok, fail, or skip when it could not be known here (never
// ✓ for what was not checked). The detail names the service already, so the
// title stays empty and the line is the detail alone.
func FromStack(r stack.CheckResult) Outcome {
	o := Outcome{ID: r.ID, Service: r.Service, Result: Result{Status: OK, Detail: r.Detail}}
	switch {
	case r.Skipped:
		o.Status = Skip
	case !r.OK:
		o.Status, o.Fix = Fail, r.Fix
	}
	return o
}

// FromStackAll maps every result of rs.
func FromStackAll(rs []stack.CheckResult) []Outcome {
	out := make([]Outcome, 0, len(rs))
	for _, r := range rs {
		out = append(out, FromStack(r))
	}
	return out
}
