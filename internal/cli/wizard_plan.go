package cli

import (
	"github.com/claire-de-binare/cdb-setup/internal/step"
)

// planFailed: a plan failure that no earlier change can resolve.
func planFailed(rep step.Report, deferred map[string]bool) bool {
	for _, r := range rep.Results {
		if r.Status == step.StatusFailed && !deferred[r.Step] {
			return true
		}
	}
	return false
}
