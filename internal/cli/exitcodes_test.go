package cli

// Regression tests of issue 11: the README's exit codes (0/1/2/3/130), the
// step engine applying nothing when a plan failed, --no-input never
// confirming, and one --json envelope for every command.

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/claire-de-binare/cdb-setup/internal/exitcode"
	"github.com/claire-de-binare/cdb-setup/internal/platform"
	"github.com/claire-de-binare/cdb-setup/internal/step"
	"github.com/claire-de-binare/cdb-setup/internal/testenv"
)

// initSecrets runs `secrets init` into a fresh folder and returns the folder
// and every secret value written (to assert they never appear in output).
func initSecrets(t *testing.T, env platform.MapEnvironment, home string) (string, map[string]string) {
	t.Helper()
	dir := filepath.Join(home, "s")
	if r := runCLI(t, env, "", "secrets", "init", "--no-input", "--secrets-path", dir); r.code != 0 {
		t.Fatalf("init: exit %d\n%s", r.code, r.stderr)
	}
	return dir, secretValues(t, dir)
}

func secretValues(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if b, err := os.ReadFile(filepath.Join(dir, e.Name())); err == nil && len(b) >= 8 {
			out[e.Name()] = string(b)
		}
	}
	return out
}

func noSecretIn(t *testing.T, what, out string, values map[string]string) {
	t.Helper()
	for name, v := range values {
		if strings.Contains(out, v) {
			t.Errorf("%s: the value of %s appears in the output", what, name)
		}
	}
}

// leaves lists every runnable command of the tree (the wizard, the root,
// included) by its arguments.
func leaves(t *testing.T) [][]string {
	t.Helper()
	f := &Factory{IO: &IOStreams{In: strings.NewReader(""), Out: &bytes.Buffer{}, ErrOut: &bytes.Buffer{}}, Global: &GlobalOptions{}, Env: platform.MapEnvironment{}, Context: context.Background()}
	var out [][]string
	var walk func(c *cobra.Command, path []string)
	walk = func(c *cobra.Command, path []string) {
		if c.Runnable() {
			out = append(out, path)
		}
		for _, sub := range c.Commands() {
			walk(sub, append(append([]string(nil), path...), sub.Name()))
		}
	}
	walk(NewRootCmd(f), nil)
	if len(out) < 20 {
		t.Fatalf("only %d runnable commands found: %v", len(out), out)
	}
	return out
}

// TestEveryCommandJSONOnFailure: every runnable command, with --json, prints
// exactly one envelope on stdout when it fails: for a usage error (an
// unknown flag, exit 2) and for a repository that is not one. No secret
// value is ever in it.
func TestEveryCommandJSONOnFailure(t *testing.T) {
	env, home := fixtureEnv(t)
	dir, values := initSecrets(t, env, home)
	notRepo := testenv.TempDir(t)
	for _, path := range leaves(t) {
		name := strings.Join(append([]string{"cdb-setup"}, path...), " ")
		t.Run(name, func(t *testing.T) {
			r := runCLI(t, env, "", append(append([]string(nil), path...), "--json", "--no-such-flag")...)
			e := parseEnvelope(t, r.stdout)
			if r.code != exitcode.Usage || e.OK || e.ExitCode != exitcode.Usage || e.Error == nil || !strings.Contains(e.Error.Message, "unknown flag: --no-such-flag") {
				t.Errorf("unknown flag: exit %d, envelope %+v", r.code, e)
			}
			if e.Command != name {
				t.Errorf("command %q, want %q", e.Command, name)
			}
			if !strings.Contains(r.stderr, "unknown flag") || strings.Contains(r.stderr, "{") {
				t.Errorf("stderr must carry the human text only:\n%s", r.stderr)
			}
			noSecretIn(t, "unknown flag", r.stdout+r.stderr, values)

			// A folder that is not a repository, nothing changed (--dry-run).
			args := append(append([]string(nil), path...), "--json", "--dry-run", "--repo", notRepo, "--secrets-path", dir)
			if len(path) > 0 && path[len(path)-1] == "rotate" {
				args = append(args, "REDIS_PASSWORD")
			}
			r = runCLI(t, env, "", args...)
			e = parseEnvelope(t, r.stdout)
			if e.ExitCode != r.code || e.Command != name {
				t.Errorf("not a repo: exit %d, envelope %+v", r.code, e)
			}
			noSecretIn(t, "not a repo", r.stdout+r.stderr, values)
		})
	}
	// Without a subcommand: an unknown command is a usage error too.
	r := runCLI(t, env, "", "no-such-command", "--json")
	if e := parseEnvelope(t, r.stdout); r.code != exitcode.Usage || e.OK || e.Error == nil || !strings.Contains(e.Error.Message, "unknown command") {
		t.Errorf("unknown command: exit %d, envelope %+v", r.code, e)
	}
	// CDB_SETUP_JSON asks for the envelope even when parsing fails first.
	env["CDB_SETUP_JSON"] = "1"
	r = runCLI(t, env, "", "secrets", "check", "--bogus")
	if e := parseEnvelope(t, r.stdout); e.ExitCode != exitcode.Usage {
		t.Errorf("CDB_SETUP_JSON: %+v", e)
	}
}

// TestJSONEnvelopeOnSuccess: the same envelope on success, with the
// command's payload in data and the step report in plan/results.
func TestJSONEnvelopeOnSuccess(t *testing.T) {
	env, home := fixtureEnv(t)
	r := runCLI(t, env, "", "version", "--json")
	var info struct{ Version, Platform string }
	if ok := envelopeData(t, r.stdout, &info); !ok || r.code != 0 || info.Version == "" || info.Platform == "" {
		t.Errorf("version: exit %d %+v", r.code, info)
	}

	r = runCLI(t, env, "", "secrets", "init", "--dry-run", "--json", "--secrets-path", filepath.Join(home, "new"))
	e := parseEnvelope(t, r.stdout)
	if r.code != 0 || !e.OK || e.Command != "cdb-setup secrets init" || len(e.Plan) < 5 || len(e.Results) != 0 {
		t.Errorf("secrets init --dry-run: exit %d, %+v", r.code, e)
	}
	if _, err := os.Stat(filepath.Join(home, "new")); err == nil {
		t.Error("--dry-run created the folder")
	}

	dir, values := initSecrets(t, env, home)
	env["CDB_SETUP_SECRETS_PATH"] = dir
	r = runCLI(t, env, "", "secrets", "init", "--json", "--no-input")
	e = parseEnvelope(t, r.stdout)
	if r.code != 0 || !e.OK || len(e.Results) < 5 {
		t.Errorf("secrets init again: exit %d, %+v", r.code, e)
	}
	noSecretIn(t, "secrets init", r.stdout+r.stderr, values)

	r = runCLI(t, env, "", "doctor", "--json")
	var doc struct {
		Checks []struct{ ID, Status string }
	}
	envelopeData(t, r.stdout, &doc)
	if len(doc.Checks) == 0 {
		t.Errorf("doctor: no checks in data:\n%s", r.stdout)
	}
	noSecretIn(t, "doctor", r.stdout+r.stderr, values)

	r = runCLI(t, env, "", "secrets", "check", "--json")
	var cj struct{ OK bool }
	// Under Wine the private ACLs do not hold (the check says so, exit 1);
	// the envelope is the same either way.
	if ok := envelopeData(t, r.stdout, &cj); (!ok || !cj.OK) && runtime.GOOS != "windows" {
		t.Errorf("secrets check: exit %d\n%s", r.code, r.stdout)
	}
	noSecretIn(t, "secrets check", r.stdout+r.stderr, values)

	// cobra's completion script, the one product on stdout, moves into data.
	r = runCLI(t, env, "", "completion", "bash", "--json")
	var comp struct{ Output string }
	if ok := envelopeData(t, r.stdout, &comp); !ok || !strings.Contains(comp.Output, "bash completion") {
		t.Errorf("completion --json: %s", r.stdout)
	}
}

// TestMainPrintsTheFix: an error carrying a fix is printed with it by Main
// (the commands do not hand-roll it), and the envelope has both.
func TestMainPrintsTheFix(t *testing.T) {
	testenv.NeedCommand(t, "git")
	env, _ := fixtureEnv(t)
	// Not a git repository: hook install's error carries its fix.
	r := runCLI(t, env, "", "hook", "install", "--json", "--repo", testenv.TempDir(t))
	e := parseEnvelope(t, r.stdout)
	if r.code != exitcode.Environment || e.Error == nil || e.Error.Fix == "" {
		t.Fatalf("exit %d, %+v\n%s", r.code, e, r.stderr)
	}
	if strings.Count(r.stderr, "  fix: "+e.Error.Fix+"\n") != 1 || strings.Count(r.stderr, "✗ ") != 1 {
		t.Errorf("the error and its fix must be printed exactly once:\n%s", r.stderr)
	}
}

// TestExitCodes: one case per documented code.
func TestExitCodes(t *testing.T) {
	env, home := fixtureEnv(t)
	t.Run("0 success", func(t *testing.T) {
		if r := runCLI(t, env, "", "version"); r.code != exitcode.OK {
			t.Errorf("exit %d", r.code)
		}
	})
	t.Run("1 a check failed", func(t *testing.T) {
		dir, _ := initSecrets(t, env, filepath.Join(home, "one"))
		must(t, os.WriteFile(filepath.Join(dir, "GRAFANA_PASSWORD"), []byte("abcdefghijklmnopqrstuvwxyz012345\r\n"), 0o644))
		if r := runCLI(t, env, "", "secrets", "check", "--secrets-path", dir); r.code != exitcode.Failed {
			t.Errorf("exit %d", r.code)
		}
	})
	t.Run("2 usage", func(t *testing.T) {
		vf := filepath.Join(home, "v")
		must(t, os.WriteFile(vf, []byte("value-of-nothing"), 0o600))
		for _, args := range [][]string{
			{"secrets", "init", "--bogus"},
			{"no-such-command"},
			{"secrets", "rotate"}, // missing NAME
			// An unknown secret name is usage wherever it is given.
			{"secrets", "init", "--no-input", "--dry-run", "--secrets-path", filepath.Join(home, "two"), "--set", "NO_SUCH_SECRET=@" + vf},
		} {
			if r := runCLI(t, env, "", args...); r.code != exitcode.Usage {
				t.Errorf("%v: exit %d\n%s", args, r.code, r.stderr)
			}
		}
		ans := filepath.Join(home, "answers.yaml")
		must(t, os.WriteFile(ans, []byte("secrets:\n  NO_SUCH_SECRET: x\n"), 0o600))
		if r := runCLI(t, env, "", "secrets", "init", "--no-input", "--dry-run", "--secrets-path", filepath.Join(home, "two"), "--answers", ans); r.code != exitcode.Usage {
			t.Errorf("--answers with an unknown name: exit %d\n%s", r.code, r.stderr)
		}
	})
	t.Run("3 environment: no gitleaks", func(t *testing.T) {
		repo := gitRepo(t)
		e := platform.MapEnvironment{}
		for k, v := range env {
			e[k] = v
		}
		e["PATH"] = gitOnlyPath(t)
		r := runCLI(t, e, "", "hook", "install", "--repo", repo, "--json")
		if r.code != exitcode.Environment || !strings.Contains(r.stderr, "gitleaks is not installed") {
			t.Errorf("exit %d\n%s", r.code, r.stderr)
		}
		if ev := parseEnvelope(t, r.stdout); ev.ExitCode != exitcode.Environment || ev.Error == nil || !strings.Contains(ev.Error.Fix, "install") {
			t.Errorf("envelope %+v", ev)
		}
	})
	t.Run("130 interrupted", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		var out, errOut bytes.Buffer
		code := Main(ctx, []string{"secrets", "init", "--no-input", "--json", "--secrets-path", filepath.Join(home, "int")}, &IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}, env)
		if code != exitcode.Interrupted {
			t.Errorf("exit %d\n%s", code, errOut.String())
		}
		if e := parseEnvelope(t, out.String()); e.ExitCode != exitcode.Interrupted {
			t.Errorf("envelope %+v", e)
		}
	})
}

// gitRepo is a fresh git repository.
func gitRepo(t *testing.T) string {
	t.Helper()
	git := testenv.NeedCommand(t, "git")
	dir := testenv.TempDir(t)
	out, err := exec.Command(git, "init", "-q", dir).CombinedOutput()
	if err != nil {
		t.Fatalf("git init: %v %s", err, out)
	}
	return dir
}

// gitOnlyPath is a PATH with git on it and no gitleaks.
func gitOnlyPath(t *testing.T) string {
	t.Helper()
	git := testenv.NeedCommand(t, "git")
	bin := testenv.TempDir(t)
	name := "git"
	if runtime.GOOS == "windows" {
		name = "git.exe"
	}
	if err := os.Symlink(git, filepath.Join(bin, name)); err != nil {
		t.Skipf("symlink: %v", err)
	}
	return bin
}

// TestPlanFailureChangesNothing: `secrets init --force` with REDIS_PASSWORD
// a symlink fails in its plan; nothing else is replaced (it used to replace
// GRAFANA_PASSWORD, POSTGRES_PASSWORD and the DSN while exiting 1).
func TestPlanFailureChangesNothing(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("symlinks need a privilege on Windows")
	}
	env, home := fixtureEnv(t)
	dir, before := initSecrets(t, env, home)
	target := filepath.Join(home, "elsewhere")
	must(t, os.WriteFile(target, []byte(before["REDIS_PASSWORD"]), 0o600))
	must(t, os.Remove(filepath.Join(dir, "REDIS_PASSWORD")))
	must(t, os.Symlink(target, filepath.Join(dir, "REDIS_PASSWORD")))
	before = secretValues(t, dir)

	r := runCLI(t, env, "", "secrets", "init", "--force", "--no-input", "--json", "--secrets-path", dir)
	if r.code != exitcode.Failed || !strings.Contains(r.stderr, "Nothing was changed") {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	if e := parseEnvelope(t, r.stdout); e.OK || !strings.Contains(r.stdout, `"not_applied": true`) {
		t.Errorf("envelope must say nothing was applied:\n%s", r.stdout)
	}
	after := secretValues(t, dir)
	for name, v := range before {
		if after[name] != v {
			t.Errorf("%s was replaced although the plan failed", name)
		}
	}
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if strings.Contains(e.Name(), ".bak") || strings.Contains(e.Name(), "backup") {
			t.Errorf("a backup %s was made although nothing should change", e.Name())
		}
	}
}

// TestFromEnvConflictWritesNothing: one file holding another value stops
// from-env before it writes any of the others.
func TestFromEnvConflictWritesNothing(t *testing.T) {
	env, home := fixtureEnv(t)
	dir := filepath.Join(home, "ci")
	env["CDB_SECRET_REDIS_PASSWORD"] = "redis-from-ci-value"
	env["CDB_SECRET_POSTGRES_PASSWORD"] = "pg-from-ci-value"
	env["CDB_SECRET_GRAFANA_PASSWORD"] = "grafana-from-ci-value"
	must(t, os.MkdirAll(dir, 0o700))
	must(t, os.WriteFile(filepath.Join(dir, "GRAFANA_PASSWORD"), []byte("a-different-value"), 0o600))
	r := runCLI(t, env, "", "secrets", "from-env", "--secrets-path", dir, "--json")
	if r.code != exitcode.Failed || !strings.Contains(r.stderr, "Nothing was changed") {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		t.Errorf("from-env wrote files although one conflicted: %v", names)
	}
	if strings.Contains(r.stdout+r.stderr, "from-ci-value") {
		t.Error("a CI secret appears in the output")
	}
}

// TestNoInputIsNotYes: --no-input (and CDB_SETUP_NO_INPUT) never confirms;
// only --yes does. The global flags are read the same way by every command.
func TestNoInputIsNotYes(t *testing.T) {
	for _, c := range []struct {
		args      []string
		env       map[string]string
		yes, noIn bool
	}{
		{args: []string{"--no-input"}, noIn: true},
		{args: []string{"--yes"}, yes: true},
		{env: map[string]string{"CDB_SETUP_NO_INPUT": "1"}, noIn: true},
		{env: map[string]string{"CDB_SETUP_YES": "1"}, yes: true},
		// The flag on the command line wins over the environment.
		{args: []string{"--no-input"}, env: map[string]string{"CDB_SETUP_YES": "1"}, noIn: true},
	} {
		env := platform.MapEnvironment{}
		for k, v := range c.env {
			env[k] = v
		}
		var got GlobalOptions
		f := &Factory{IO: &IOStreams{In: strings.NewReader(""), Out: &bytes.Buffer{}, ErrOut: &bytes.Buffer{}}, Global: &GlobalOptions{}, Env: env, Context: context.Background()}
		root := NewRootCmd(f)
		v := NewCmdVersion(f, func(*VersionOptions) error { got = *f.Global; return nil })
		v.Use = "probe"
		root.AddCommand(v)
		root.SetArgs(append([]string{"probe"}, c.args...))
		if err := root.Execute(); err != nil {
			t.Fatal(err)
		}
		if got.Yes != c.yes || got.NoInput != c.noIn {
			t.Errorf("%v %v: yes=%v no-input=%v", c.args, c.env, got.Yes, got.NoInput)
		}
		f.Global = &got
		ok, err := confirmYes(f, "Delete these volumes?")
		if c.yes != ok || !c.yes && (exitcode.From(err) != exitcode.Environment || !strings.Contains(err.Error()+step.FixOf(err), "--yes")) {
			t.Errorf("%v %v: confirm = %v, %v", c.args, c.env, ok, err)
		}
	}
}
