package cli

import (
	"bytes"
	"regexp"
	"strings"
	"testing"

	"github.com/claire-de-binare/cdb-setup/internal/checks"
	"github.com/claire-de-binare/cdb-setup/internal/stack"
)

// One check vocabulary, one printer: a doctor line, a preflight line (up,
// down) and a post-start line are the same format, byte for byte, for the
// same outcome.
func TestDoctorAndPreflightPrintTheSameLines(t *testing.T) {
	outs := []checks.Outcome{
		{ID: "docker", Title: "Docker Engine", Result: checks.Result{Status: checks.OK, Detail: "28.0 (context default)"}},
		{ID: "ports", Title: "Published host ports are free", Result: checks.Result{Status: checks.Fail, Detail: "127.0.0.1:5432 is taken", Fix: "stop it: kill 42"}},
		{ID: "cloud-sync", Title: "Cloud sync", Result: checks.Result{Status: checks.Warn, Detail: "synced", Fix: "move the folder"}},
		{ID: "macos", Title: "macOS Files and Folders", Result: checks.Result{Status: checks.Skip, Detail: "only on macOS"}},
	}
	line := regexp.MustCompile(`^  [✓!✗-] [^:]+: .+$`)
	fix := regexp.MustCompile(`^    fix: .+$`)
	for _, o := range outs {
		var pre, doc bytes.Buffer
		printCheck(&pre, o)                          // up's and down's preflight print each outcome live
		printDoctor(&doc, []checks.Outcome{o}, true) // doctor, --verbose shows skips
		docLines := strings.TrimSuffix(doc.String(), "\n")
		docLines = docLines[:strings.Index(docLines, "\n\n")+1] // without the tally
		if docLines != pre.String() {
			t.Errorf("%s: doctor prints\n%q\npreflight prints\n%q", o.ID, docLines, pre.String())
		}
		lines := strings.Split(strings.TrimSuffix(pre.String(), "\n"), "\n")
		if !line.MatchString(lines[0]) {
			t.Errorf("%s: check line %q", o.ID, lines[0])
		}
		wantFix := o.Status != checks.OK && o.Fix != ""
		if wantFix != (len(lines) == 2) || wantFix && !fix.MatchString(lines[1]) {
			t.Errorf("%s: fix line: %q", o.ID, lines)
		}
	}

	// A post-start check (stack.CheckResult) maps onto the same statuses;
	// "could not be known" is -, never ✓.
	for _, c := range []struct {
		in   stack.CheckResult
		want string
	}{
		{stack.CheckResult{ID: "functional.redis-auth", Service: "redis", OK: true, Detail: "redis: AUTH on 127.0.0.1:6379"}, "  ✓ redis: AUTH on 127.0.0.1:6379\n"},
		{stack.CheckResult{ID: "functional.postgres-login", Service: "postgres", Detail: "postgres: refused", Fix: "cdb-setup keychain pull --force"}, "  ✗ postgres: refused\n    fix: cdb-setup keychain pull --force\n"},
		{stack.CheckResult{ID: "secret-readable.X", Service: "app", OK: true, Skipped: true, Detail: "app: /run/secrets/x not checked (no test)"}, "  - app: /run/secrets/x not checked (no test)\n"},
	} {
		var b bytes.Buffer
		printCheck(&b, checks.FromStack(c.in))
		if b.String() != c.want {
			t.Errorf("%s: %q, want %q", c.in.ID, b.String(), c.want)
		}
	}
}
