package checks

import "github.com/claire-de-binare/cdb-setup/internal/secrets"

// FromSeverity maps a secret-file lint severity onto this vocabulary: an
// error breaks a service (fail), a warning is worth fixing (warn).
func FromSeverity(sev secrets.Severity) Status {
	if sev == secrets.SevError {
		return Fail
	}
	return Warn
}

// FromLint is one lint problem as a check line (`secrets check`): an
// optional secret left empty is not a problem, so it is a skip line.
func FromLint(p secrets.Problem) Outcome {
	o := Outcome{ID: "secret-lint." + p.Code, Result: Result{Status: FromSeverity(p.Severity), Detail: p.Message}}
	if p.Code == secrets.CodeUnconfigured {
		o.Status = Skip
	}
	return o
}
