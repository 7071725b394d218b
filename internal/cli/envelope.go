package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/claire-de-binare/cdb-setup/internal/exitcode"
	"github.com/claire-de-binare/cdb-setup/internal/platform"
	"github.com/claire-de-binare/cdb-setup/internal/step"
)

// Envelope is the one JSON document every command prints on stdout under
// --json: on success and on every failure (usage errors included), written
// once, by Main, after the command ran. Commands never write stdout
// themselves under --json; they hand their report (Factory.report) and
// their own payload (Factory.setData) to the Factory. docs/json.md
// describes it; secret values are never in it.
type Envelope struct {
	// OK is true exactly when ExitCode is 0.
	OK bool `json:"ok"`
	// Command is the command line's command path, e.g. "cdb-setup secrets
	// init" ("cdb-setup" for the wizard).
	Command  string `json:"command"`
	ExitCode int    `json:"exit_code"`
	DryRun   bool   `json:"dry_run"`
	// Plan and Results are the step engine's report (empty for commands
	// that run no steps; never null).
	Plan    []step.Change `json:"plan"`
	Results []step.Result `json:"results"`
	// NotApplied: a step's plan failed, so no step was applied.
	NotApplied  bool `json:"not_applied,omitempty"`
	Interrupted bool `json:"interrupted,omitempty"`
	// Data is the command's own payload (doctor's checks, up's services,
	// keychain status, ...), or null.
	Data any `json:"data"`
	// Error is null when OK.
	Error *EnvelopeError `json:"error"`
}

// EnvelopeError says what went wrong and how to fix it.
type EnvelopeError struct {
	Message  string `json:"message"`
	Fix      string `json:"fix,omitempty"`
	ExitCode int    `json:"exit_code"`
}

// jsonPayload is what a command hands to the Factory for the envelope.
type jsonPayload struct {
	plan        []step.Change
	results     []step.Result
	notApplied  bool
	interrupted bool
	data        any
	output      bytes.Buffer // product output (completion scripts) kept out of stdout
}

// report adds a step report to the envelope.
func (f *Factory) report(rep step.Report) {
	f.out.plan = append(f.out.plan, rep.Plans...)
	f.out.results = append(f.out.results, rep.Results...)
	f.out.notApplied = f.out.notApplied || rep.NotApplied
	f.out.interrupted = f.out.interrupted || rep.Interrupted
}

// setData sets the command's own payload of the envelope.
func (f *Factory) setData(v any) { f.out.data = v }

// productOut is stdout for output that is a command's product (cobra's
// completion scripts): under --json it goes into the envelope's data
// instead, so stdout holds exactly one JSON document.
type productOut struct{ f *Factory }

func (p productOut) Write(b []byte) (int, error) {
	if p.f.Global.JSON {
		return p.f.out.output.Write(b)
	}
	return p.f.IO.Out.Write(b)
}

// reportOut is where a command's report goes — help, doctor, the status
// and check commands: stdout, so `cdb-setup --help | less` and
// `cdb-setup doctor | grep fix` work (gh, docker and brew do the same).
// Progress and prompts stay on stderr. Under --json stdout holds only the
// envelope (the report is in its data), so the human report goes to stderr.
func (f *Factory) reportOut() io.Writer { return reportWriter{f} }

type reportWriter struct{ f *Factory }

func (r reportWriter) Write(b []byte) (int, error) {
	// jsonArgs covers help, which cobra prints before the environment
	// defaults (CDB_SETUP_JSON) are applied to the options.
	if r.f.Global.JSON || r.f.jsonArgs {
		return r.f.IO.ErrOut.Write(b)
	}
	return r.f.IO.Out.Write(b)
}

// envelope builds the document for a finished command.
func (f *Factory) envelope(command string, code int, err error) Envelope {
	e := Envelope{
		OK: code == exitcode.OK, Command: command, ExitCode: code, DryRun: f.Global.DryRun,
		Plan: f.out.plan, Results: f.out.results, NotApplied: f.out.notApplied,
		Interrupted: f.out.interrupted || code == exitcode.Interrupted, Data: f.out.data,
	}
	if e.Plan == nil {
		e.Plan = []step.Change{}
	}
	if e.Results == nil {
		e.Results = []step.Result{}
	}
	if e.Data == nil && f.out.output.Len() > 0 {
		e.Data = map[string]string{"output": f.out.output.String()}
	}
	if code != exitcode.OK {
		e.Error = &EnvelopeError{ExitCode: code}
		e.Error.Message, e.Error.Fix = errorText(err, code, e.Results)
	}
	return e
}

// errorText is the message and fix of a failure: the error's own, or for an
// error already explained on stderr (silent), the first failed result's,
// else what the exit code means.
func errorText(err error, code int, results []step.Result) (string, string) {
	var s *silentError
	if err != nil && !errors.As(err, &s) {
		return err.Error(), step.FixOf(err)
	}
	if s != nil && s.msg != "" {
		return s.msg, step.FixOf(err)
	}
	for _, r := range results {
		if r.Status == step.StatusFailed {
			return r.Step + ": " + r.Detail, r.Fix
		}
	}
	switch code {
	case exitcode.Interrupted:
		return "interrupted", ""
	case exitcode.Environment:
		return "something cdb-setup needs is missing (see the text on stderr)", ""
	case exitcode.Usage:
		return "usage error", "see --help"
	}
	return "a check or step failed (see the text on stderr)", ""
}

// jsonWanted: --json (or CDB_SETUP_JSON) was asked for, even when the
// command line failed to parse before the flag was applied.
func jsonWanted(g *GlobalOptions, args []string, env platform.Environment) bool {
	if g.JSON {
		return true
	}
	for _, a := range args {
		if a == "--" {
			break
		}
		if a == "--json" {
			return true
		}
		if v, ok := strings.CutPrefix(a, "--json="); ok {
			b, err := strconv.ParseBool(v)
			return err != nil || b
		}
	}
	return envBool(env, "CDB_SETUP_JSON")
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("write the --json document: %w", err)
	}
	return nil
}
