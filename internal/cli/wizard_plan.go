package cli

import (
	"context"
	"io"

	"github.com/claire-de-binare/cdb-setup/internal/setup"
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

// planWizard plans every group, changing nothing: every change is shown
// before anything happens. An area whose plan fails while an area it reads
// from (the keychain restore, the secret files) still has changes to make
// is deferred: planned again once those are made, since its failure may be
// what they fix. Any other plan failure stops the run before anything
// changes (planFailed).
func planWizard(ctx context.Context, groups []setup.Group) (planRep step.Report, placeholders, deferred map[string]bool, err error) {
	placeholders, deferred = map[string]bool{}, map[string]bool{}
	pending := map[string]bool{}
	for _, g := range groups {
		rep, err := step.Run(ctx, g.Steps, step.Options{DryRun: true, KeepGoing: true})
		if err != nil {
			return planRep, nil, nil, err
		}
		for _, st := range g.Steps {
			if setup.IsPlaceholder(st) {
				placeholders[st.ID()] = true
			}
		}
		planRep.Plans = append(planRep.Plans, rep.Plans...)
		fed := false
		for _, d := range g.DependsOn {
			fed = fed || pending[d]
		}
		for _, r := range rep.Results {
			if r.Status == step.StatusFailed && fed {
				deferred[r.Step] = true
			}
			planRep.Results = append(planRep.Results, r)
		}
		for _, c := range rep.Plans {
			if !c.None && !placeholders[c.Step] {
				pending[g.Area] = true
			}
		}
	}
	return planRep, placeholders, deferred, nil
}

// applyWizard applies the groups in order, one line per step as it
// finishes, each group planned again first so it sees what the groups
// before it did; it stops at the first failure or interruption.
func applyWizard(ctx context.Context, w io.Writer, scr Screen, size func() (int, int), groups []setup.Group) (step.Report, error) {
	var rep step.Report
	var runErr error
	for _, g := range groups {
		r, err := step.Run(ctx, g.Steps, step.Options{OnResult: func(r step.Result) { printWizardResult(w, r) }, OnApply: stepProgress(w, scr, size)})
		rep.Plans = append(rep.Plans, r.Plans...)
		rep.Results = append(rep.Results, r.Results...)
		if r.Interrupted {
			rep.Interrupted = true
		}
		if err != nil || r.Interrupted || r.Failed() {
			runErr = err
			break
		}
	}
	return rep, runErr
}
