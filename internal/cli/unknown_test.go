package cli

// Regression tests of issue 14 "The CLI's manners": an unknown subcommand
// at any level is a usage error with cobra's suggestion, and --version
// works like `version`.

import (
	"strings"
	"testing"

	"github.com/claire-de-binare/cdb-setup/internal/exitcode"
)

func TestUnknownSubcommandIsUsageError(t *testing.T) {
	env, _ := fixtureEnv(t)
	for _, tc := range []struct {
		args    []string
		command string // the envelope's command
		fix     string // "" = no suggestion, the help hint instead
	}{
		{[]string{"hook", "instal"}, "cdb-setup hook", "Did you mean `cdb-setup hook install`?"},
		{[]string{"secrets", "initt"}, "cdb-setup secrets", "Did you mean `cdb-setup secrets init`?"},
		{[]string{"help", "secrts"}, "cdb-setup help", "Did you mean `cdb-setup help secrets`?"},
		{[]string{"help", "secrets", "initt"}, "cdb-setup help", "Did you mean `cdb-setup help secrets init`?"},
		{[]string{"secrets", "restore"}, "cdb-setup secrets", "see `cdb-setup secrets --help`"},
		{[]string{"vrsion"}, "cdb-setup", "Did you mean `cdb-setup version`?"},
		{[]string{"env", "stauts"}, "cdb-setup env", "Did you mean `cdb-setup env status`?"},
	} {
		name := strings.Join(tc.args, " ")
		t.Run(name, func(t *testing.T) {
			r := runCLI(t, env, "", tc.args...)
			if r.code != exitcode.Usage {
				t.Errorf("exit %d, want %d\n%s", r.code, exitcode.Usage, r.stderr)
			}
			word := tc.args[len(tc.args)-1]
			if !strings.Contains(r.stderr, "unknown command \""+word+"\"") || !strings.Contains(r.stderr, "fix: "+tc.fix) {
				t.Errorf("stderr lacks the unknown command and %q:\n%s", tc.fix, r.stderr)
			}
			if strings.Contains(r.stderr, "Usage:") {
				t.Errorf("prints help instead of the error:\n%s", r.stderr)
			}
			r = runCLI(t, env, "", append(append([]string(nil), tc.args...), "--json")...)
			e := parseEnvelope(t, r.stdout)
			if r.code != exitcode.Usage || e.OK || e.ExitCode != exitcode.Usage || e.Command != tc.command ||
				e.Error == nil || !strings.Contains(e.Error.Message, "unknown command") || e.Error.Fix != tc.fix {
				t.Errorf("--json: exit %d, envelope %+v", r.code, e)
			}
		})
	}
	// A group run bare still shows its help, and help on a known topic works.
	for _, args := range [][]string{{"secrets"}, {"help", "secrets"}, {"help", "hook", "install"}} {
		r := runCLI(t, env, "", args...)
		if r.code != 0 || !strings.Contains(r.stdout, "Usage:") {
			t.Errorf("%v: exit %d\n%s", args, r.code, r.stdout)
		}
	}
}

func TestVersionFlagIsVersion(t *testing.T) {
	env, _ := fixtureEnv(t)
	want := runCLI(t, env, "", "version")
	got := runCLI(t, env, "", "--version")
	if got.code != 0 || want.code != 0 || got.stdout != want.stdout || !strings.HasPrefix(got.stdout, "cdb-setup ") {
		t.Errorf("--version: exit %d %q, version: exit %d %q", got.code, got.stdout, want.code, want.stdout)
	}
	got = runCLI(t, env, "", "--version", "--json")
	e := parseEnvelope(t, got.stdout)
	if got.code != 0 || !e.OK || e.Data == nil {
		t.Errorf("--version --json: exit %d, envelope %+v", got.code, e)
	}
}

// TestClosestNames: the suggestion for a misspelt service (up SERVICE).
func TestClosestNames(t *testing.T) {
	names := []string{"cdb_grafana", "cdb_postgres", "cdb_redis", "demo_app"}
	for word, want := range map[string]string{"cdb_rediss": "cdb_redis", "demo_ap": "demo_app", "postgres": "cdb_postgres", "CDB_REDIS": "cdb_redis"} {
		if got := closest(word, names); len(got) == 0 || got[0] != want {
			t.Errorf("closest(%q) = %v, want %s first", word, got, want)
		}
	}
	if got := closest("zzz", names); len(got) != 0 {
		t.Errorf("closest(zzz) = %v, want none", got)
	}
}
