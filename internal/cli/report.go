package cli

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/claire-de-binare/cdb-setup/internal/exitcode"
	"github.com/claire-de-binare/cdb-setup/internal/step"
)

// runSteps runs steps with the global --dry-run, prints progress to stderr as
// each step finishes and, with --json, the whole report to stdout. It returns
// an error carrying exit code 1 when a step failed (already explained, so
// Main prints nothing more), or 130 when interrupted.
func runSteps(f *Factory, steps []step.Step, keepGoing bool) (step.Report, error) {
	w := f.IO.ErrOut
	opts := step.Options{DryRun: f.Global.DryRun, KeepGoing: keepGoing}
	if f.Global.DryRun {
		fmt.Fprintln(w, "Plan (dry run, nothing will change):")
		opts.OnPlan = func(c step.Change) { printChange(w, c) }
	}
	opts.OnResult = func(r step.Result) { printResult(w, r) }
	ctx := f.Context
	rep, err := step.Run(ctx, steps, opts)
	if f.Global.JSON {
		if jerr := writeJSON(f.IO.Out, rep); jerr != nil && err == nil {
			err = jerr
		}
	}
	if rep.Interrupted {
		fmt.Fprintln(w, "Interrupted. Every step listed above is complete; nothing after it was started.")
		return rep, SilentError(exitcode.Interrupted)
	}
	if err != nil {
		return rep, err
	}
	if rep.Failed() {
		return rep, SilentError(exitcode.Failed)
	}
	return rep, nil
}

func printChange(w io.Writer, c step.Change) {
	if c.None {
		fmt.Fprintf(w, "  ✓ %s\n", c.Summary)
		return
	}
	fmt.Fprintf(w, "  • %s\n", c.Summary)
}

func printResult(w io.Writer, r step.Result) {
	switch r.Status {
	case step.StatusDone:
		fmt.Fprintf(w, "✓ %s\n", r.Detail)
	case step.StatusChanged:
		fmt.Fprintf(w, "✓ %s\n", r.Detail)
	case step.StatusSkipped:
		fmt.Fprintf(w, "- %s\n", r.Detail)
	case step.StatusFailed:
		fmt.Fprintf(w, "✗ %s\n", r.Detail)
		if r.Fix != "" {
			fmt.Fprintf(w, "  fix: %s\n", r.Fix)
		}
	}
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
