package cli

import (
	"bytes"
	"encoding/json"
	"testing"
)

// envelopeData parses stdout as exactly one --json envelope, decodes its
// data into v and returns the envelope's ok.
func envelopeData(t *testing.T, stdout string, v any) bool {
	t.Helper()
	e := parseEnvelope(t, stdout)
	if err := json.Unmarshal(e.Data, v); err != nil {
		t.Fatalf("envelope data: %v\n%s", err, stdout)
	}
	return e.OK
}

// rawEnvelope is Envelope with data kept raw (and every field required to be
// present checked by parseEnvelope).
type rawEnvelope struct {
	OK       bool            `json:"ok"`
	Command  string          `json:"command"`
	ExitCode int             `json:"exit_code"`
	Plan     []any           `json:"plan"`
	Results  []any           `json:"results"`
	Data     json.RawMessage `json:"data"`
	Error    *EnvelopeError  `json:"error"`
}

// parseEnvelope parses stdout as exactly one JSON document with every
// documented field (docs/json.md) present.
func parseEnvelope(t *testing.T, stdout string) rawEnvelope {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader([]byte(stdout)))
	var fields map[string]json.RawMessage
	if err := dec.Decode(&fields); err != nil {
		t.Fatalf("stdout is not one JSON document: %v\n%s", err, stdout)
	}
	if dec.More() {
		t.Fatalf("stdout holds more than one JSON document:\n%s", stdout)
	}
	for _, k := range []string{"ok", "command", "exit_code", "dry_run", "plan", "results", "data", "error"} {
		if _, ok := fields[k]; !ok {
			t.Errorf("envelope lacks %q:\n%s", k, stdout)
		}
	}
	var e rawEnvelope
	if err := json.Unmarshal([]byte(stdout), &e); err != nil {
		t.Fatalf("envelope: %v", err)
	}
	if e.Plan == nil || e.Results == nil {
		t.Errorf("plan and results must be arrays, never null:\n%s", stdout)
	}
	if e.OK != (e.ExitCode == 0) || e.OK != (e.Error == nil) {
		t.Errorf("ok=%v exit_code=%d error=%+v disagree", e.OK, e.ExitCode, e.Error)
	}
	if e.Error != nil && (e.Error.Message == "" || e.Error.ExitCode != e.ExitCode) {
		t.Errorf("error %+v incomplete", e.Error)
	}
	return e
}
