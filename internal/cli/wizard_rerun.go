package cli

import (
	"github.com/claire-de-binare/cdb-setup/internal/step"
)

// nothingToApply: the plan found every step done and none failed, so the
// wizard need not apply anything (a re-run on a finished machine): applying
// would only plan every step a second time to find the same.
func nothingToApply(planRep step.Report, todo int, deferred map[string]bool) bool {
	return todo == 0 && !planFailed(planRep, deferred) && len(deferred) == 0
}

// resultsFromPlan turns a plan with nothing to do into the run's results:
// each real step "done" (its plan summary says what is in place), each
// placeholder "skipped" (declined, or not available in this version).
func resultsFromPlan(planRep step.Report, placeholders map[string]bool) step.Report {
	rep := step.Report{Plans: planRep.Plans}
	for _, c := range planRep.Plans {
		st := step.StatusDone
		if placeholders[c.Step] {
			st = step.StatusSkipped
		}
		rep.Results = append(rep.Results, step.Result{Step: c.Step, Status: st, Detail: c.Summary})
	}
	return rep
}
