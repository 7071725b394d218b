package cli

import (
	"fmt"
	"io"
	"strings"

	"github.com/claire-de-binare/cdb-setup/internal/exitcode"
	"github.com/claire-de-binare/cdb-setup/internal/step"
)

// runSteps runs steps with the global --dry-run, prints progress to stderr as
// each step finishes and hands the report to the --json envelope. It returns
// an error carrying exit code 1 when a step failed (already explained, so
// Main prints nothing more), or 130 when interrupted. When a plan failed,
// nothing was applied, and it says so.
func runSteps(f *Factory, steps []step.Step, keepGoing bool) (step.Report, error) {
	return runStepsOpts(f, steps, step.Options{KeepGoing: keepGoing})
}

// runStepsOpts is runSteps with the engine's other options (Confirm: what
// a deleting step shows and asks before anything is applied; OnResult
// replaces the result lines).
func runStepsOpts(f *Factory, steps []step.Step, opts step.Options) (step.Report, error) {
	w := f.IO.ErrOut
	keepGoing := opts.KeepGoing
	opts.DryRun = f.Global.DryRun
	if f.Global.DryRun {
		fmt.Fprintln(w, "Plan (dry run, nothing will change):")
		opts.OnPlan = func(c step.Change) { printChange(w, c) }
	}
	if opts.OnResult == nil {
		opts.OnResult = func(r step.Result) { printResult(w, r) }
	}
	if opts.OnApply == nil && !f.Global.DryRun {
		opts.OnApply = stepProgress(w, screenOf(f.IO, f.Env), f.IO.Size)
	}
	ctx := f.Context
	rep, err := step.Run(ctx, steps, opts)
	f.report(rep)
	if rep.Interrupted {
		fmt.Fprintln(w, "Interrupted. Every step listed above is complete; nothing after it was started.")
		return rep, SilentError(exitcode.Interrupted)
	}
	if err != nil {
		return rep, err
	}
	if rep.NotApplied {
		fmt.Fprintf(w, "Nothing was changed: %s could not be planned (see ✗ above); cdb-setup applies no step when any plan fails. Fix it and run the command again.\n", failedSteps(rep))
	}
	if rep.Failed() {
		if keepGoing && !rep.NotApplied && !f.Global.DryRun && len(rep.Results) > 1 {
			fmt.Fprintln(w, "Each of these steps stands alone: the ones after a failure were still applied (listed above).")
		}
		return rep, SilentError(failureCode(rep))
	}
	return rep, nil
}

// failureCode is the exit code of a report with a failed step: 3 when the
// first failure is something missing outside cdb-setup (its error carries
// exitcode.Environment: no gitleaks, Docker unreachable), else 1.
func failureCode(rep step.Report) int {
	for _, r := range rep.Results {
		if r.Status == step.StatusFailed {
			if r.Err != nil && exitcode.From(r.Err) == exitcode.Environment {
				return exitcode.Environment
			}
			return exitcode.Failed
		}
	}
	return exitcode.Failed
}

// failedSteps names the failed steps of rep.
func failedSteps(rep step.Report) string {
	var ids []string
	for _, r := range rep.Results {
		if r.Status == step.StatusFailed {
			ids = append(ids, r.Step)
		}
	}
	return strings.Join(ids, ", ")
}

func printChange(w io.Writer, c step.Change) {
	if c.None {
		printWrapped(w, "    ", "  ✓ %s", c.Summary)
		return
	}
	printWrapped(w, "    ", "  • %s", c.Summary)
}

func printResult(w io.Writer, r step.Result) {
	switch r.Status {
	case step.StatusDone:
		printWrapped(w, "  ", "✓ %s", r.Detail)
	case step.StatusChanged:
		printWrapped(w, "  ", "✓ %s", r.Detail)
	case step.StatusSkipped:
		printWrapped(w, "  ", "- %s", r.Detail)
	case step.StatusFailed:
		printWrapped(w, "  ", "✗ %s", r.Detail)
		if r.Fix != "" {
			printWrapped(w, "       ", "  fix: %s", r.Fix)
		}
	}
}
