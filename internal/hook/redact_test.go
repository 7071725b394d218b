package hook

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/claire-de-binare/cdb-setup/internal/platform"
	"github.com/claire-de-binare/cdb-setup/internal/testenv"
)

// The regression of the leak through gitleaks' verbose output: CDB's
// mexc-api-key and trading-api-key rules have a name as their first group
// and no secretGroup, so `--redact` masked "MEXC" and printed the key in
// clear in Match and Line. Each hook path commits such keys with the real
// gitleaks and CDB's real gitleaks.toml (testdata/cdb-gitleaks.toml, a copy
// of the CDB repository's file) and checks that the output holds no 8+
// character piece of a key, yet names the file, the line and the rule.

// cdbRepo is a repository with CDB's gitleaks.toml committed.
func cdbRepo(t *testing.T, env platform.MapEnvironment) string {
	t.Helper()
	dir := newRepo(t, env, "")
	cfg, err := os.ReadFile(filepath.Join("testdata", "cdb-gitleaks.toml"))
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "gitleaks.toml"), string(cfg), 0o644)
	gitRun(t, env, dir, "add", "gitleaks.toml")
	gitRun(t, env, dir, "commit", "-q", "--no-verify", "-m", "CDB's gitleaks rules")
	return dir
}

// exchangeKeys is a file with a MEXC key (line 2) and a trading key
// (line 3), random each run.
func exchangeKeys(t *testing.T) (content string, keys []string) {
	t.Helper()
	mexc, trading := randomMixed(t, 32), randomMixed(t, 24)
	return "# exchange access\nMEXC_API_KEY=" + mexc + "\nTRADING_API_KEY=" + trading + "\n", []string{mexc, trading}
}

// assertNamesFinding checks that out names file, line and rule.
func assertNamesFinding(t *testing.T, out, file string, line int, rule string) {
	t.Helper()
	want := file + ":" + strconv.Itoa(line) + ": gitleaks rule " + rule
	if !strings.Contains(out, want) {
		t.Errorf("output lacks %q", want)
	}
}

// assertNoReportLeft fails when a gitleaks report (which holds the match)
// is left in the git folder.
func assertNoReportLeft(t *testing.T, dir string) {
	t.Helper()
	m, _ := filepath.Glob(filepath.Join(dir, ".git", "cdb-setup-gitleaks-report*"))
	if len(m) > 0 {
		t.Errorf("gitleaks report files left behind: %v", m)
	}
}

// blockedExchangeKeys commits exchangeKeys as file and checks the hook
// blocked it, showed no piece of a key, and named both findings.
func blockedExchangeKeys(t *testing.T, env platform.MapEnvironment, dir, file string) string {
	t.Helper()
	content, keys := exchangeKeys(t)
	out, code := commit(t, env, dir, map[string]string{file: content})
	if code != 1 {
		t.Fatalf("commit with exchange keys: exit %d, want 1:\n%s", code, redactAll(out, keys...))
	}
	for _, k := range keys {
		assertRedacted(t, out, k)
	}
	assertNamesFinding(t, out, file, 2, "mexc-api-key")
	assertNamesFinding(t, out, file, 3, "trading-api-key")
	if !strings.Contains(out, "commit blocked") || !strings.Contains(out, "the value is not shown") {
		t.Errorf("the output does not say the commit was blocked:\n%s", redactAll(out, keys...))
	}
	assertNoReportLeft(t, dir)
	gitRun(t, env, dir, "rm", "-q", "--cached", "--", file)
	os.Remove(filepath.Join(dir, file))
	return out
}

// TestNativeHookGitleaksAloneHidesValues: the hook without cdb-setup (only
// gitleaks runs, its JSON report read by the script's awk).
func TestNativeHookGitleaksAloneHidesValues(t *testing.T) {
	env := hermeticEnv(t, needGitleaks(t))
	if _, err := lookPath(env, "cdb-setup"); err == nil {
		t.Skip("a cdb-setup on the test PATH would take over from gitleaks alone")
	}
	dir := cdbRepo(t, env)
	mustSucceed(t, install(t, Options{Repo: dir, Env: env}))
	out := blockedExchangeKeys(t, env, dir, "exchange.env")
	if !strings.Contains(out, "cdb-setup was not found") {
		t.Errorf("the hook did not take the gitleaks-alone path")
	}
	// A file name with quotes and braces: the report escapes it, so the
	// script's reading of the report is not thrown off.
	blockedExchangeKeys(t, env, dir, `odd "name" {x}.env`)
	if out, code := commit(t, env, dir, map[string]string{"notes.txt": "nothing secret\n"}); code != 0 {
		t.Fatalf("clean commit blocked (exit %d): %s", code, out)
	}
}

// TestNativeHookScanHidesValues: the hook running `cdb-setup hook scan`.
func TestNativeHookScanHidesValues(t *testing.T) {
	env := hermeticEnv(t, needGitleaks(t))
	self := buildCdbSetup(t)
	secretsDir, _, _ := secretsFixture(t)
	dir := cdbRepo(t, env)
	mustSucceed(t, install(t, Options{Repo: dir, Env: env, Self: self, SecretsPath: secretsDir}))
	out := blockedExchangeKeys(t, env, dir, "exchange.env")
	if strings.Contains(out, "cdb-setup was not found") {
		t.Errorf("the hook did not run cdb-setup hook scan")
	}
}

// TestHookScanJSONHidesValues: `cdb-setup hook scan --json` run by hand.
func TestHookScanJSONHidesValues(t *testing.T) {
	env := hermeticEnv(t, needGitleaks(t))
	self := buildCdbSetup(t)
	dir := cdbRepo(t, env)
	content, keys := exchangeKeys(t)
	writeFile(t, filepath.Join(dir, "exchange.env"), content, 0o644)
	gitRun(t, env, dir, "add", "exchange.env")
	env["CDB_SETUP_SECRETS_PATH"] = filepath.Join(testenv.TempDir(t), "none")
	for _, args := range [][]string{{"hook", "scan"}, {"hook", "scan", "--json"}} {
		out, code := runCmd(t, env, dir, self, args...)
		if code != 1 {
			t.Fatalf("%v: exit %d, want 1:\n%s", args, code, redactAll(out, keys...))
		}
		for _, k := range keys {
			assertRedacted(t, out, k)
		}
		if len(args) == 2 {
			assertNamesFinding(t, out, "exchange.env", 2, "mexc-api-key")
			continue
		}
		// stdout is the envelope; stderr went into out too, so find it.
		i := strings.Index(out, "{")
		var env struct {
			Data ScanResult `json:"data"`
		}
		if i < 0 || json.NewDecoder(strings.NewReader(out[i:])).Decode(&env) != nil {
			t.Fatalf("no JSON envelope in the output:\n%s", redactAll(out, keys...))
		}
		found := false
		for _, g := range env.Data.GitleaksFindings {
			if g == (GitleaksFinding{File: "exchange.env", Line: 2, RuleID: "mexc-api-key"}) {
				found = true
			}
		}
		if !found || !env.Data.GitleaksFailed {
			t.Errorf("the envelope lacks the mexc finding: %+v", env.Data)
		}
	}
	assertNoReportLeft(t, dir)
}

// TestPreCommitFrameworkHidesValues: the pre-commit framework's two hooks.
func TestPreCommitFrameworkHidesValues(t *testing.T) {
	testenv.NeedCommand(t, "pre-commit")
	env := hermeticEnv(t, needGitleaks(t))
	self := buildCdbSetup(t)
	env["PATH"] = filepath.Dir(self) + string(os.PathListSeparator) + env["PATH"]
	env["CDB_SETUP_SECRETS_PATH"] = filepath.Join(testenv.TempDir(t), "none")
	dir := cdbRepo(t, env)
	writeFile(t, filepath.Join(dir, PreCommitConfigName), fixturePreCommitConfig, 0o644)
	gitRun(t, env, dir, "add", PreCommitConfigName)
	gitRun(t, env, dir, "commit", "-q", "--no-verify", "-m", "pre-commit config")
	mustSucceed(t, install(t, Options{Repo: dir, Env: env, Self: self}))
	gitRun(t, env, dir, "add", PreCommitConfigName)
	gitRun(t, env, dir, "commit", "-q", "-m", "hooks")
	out := blockedExchangeKeys(t, env, dir, "exchange.env")
	if !strings.Contains(out, PreCommitHookID) && !strings.Contains(out, "gitleaks (secrets in staged changes)") {
		t.Errorf("pre-commit output does not show the gitleaks hook ran")
	}
}

// TestPreCommitVerboseEntryReported: a configuration an older cdb-setup
// wrote (entry with --verbose) is reported by status and install, and the
// fix they print (uninstall, then install) replaces it.
func TestPreCommitVerboseEntryReported(t *testing.T) {
	if !VerboseEntry("gitleaks git --pre-commit --staged --redact --verbose --config gitleaks.toml") || !VerboseEntry("gitleaks protect -v") {
		t.Fatal("an old entry is not recognised")
	}
	if VerboseEntry(PreCommitEntry("gitleaks.toml")) || VerboseEntry(PreCommitEntry("")) {
		t.Fatal("the current entry is taken for an old one")
	}
	testenv.NeedCommand(t, "pre-commit")
	env := hermeticEnv(t, needGitleaks(t))
	dir := cdbRepo(t, env)
	cfgPath := filepath.Join(dir, PreCommitConfigName)
	writeFile(t, cfgPath, fixturePreCommitConfig, 0o644)
	state := newState(t)
	opts := Options{Repo: dir, Env: env, State: state}
	mustSucceed(t, install(t, opts))

	// Make it what the older cdb-setup wrote and recorded.
	var rec platform.Record
	for _, r := range state.Find(Kind) {
		if r.Step == "hook.pre-commit-config" {
			rec = r
		}
	}
	if rec.Data["inserted"] == "" {
		t.Fatal("no record of the inserted text")
	}
	oldText := strings.Replace(rec.Data["inserted"], "--staged --redact", "--staged --redact --verbose", 1)
	content := readBytes(t, cfgPath)
	writeFile(t, cfgPath, strings.Replace(string(content), rec.Data["inserted"], oldText, 1), 0o644)
	rec.Data["inserted"] = oldText
	state.Put(rec)

	const want = "runs gitleaks with --verbose, which can print a secret's value: run `cdb-setup hook uninstall`, then `cdb-setup hook install`"
	st, err := Inspect(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(st.Problems, "\n"), want) {
		t.Errorf("status does not report the --verbose entry: %q", st.Problems)
	}
	rep := install(t, opts)
	mustSucceed(t, rep)
	if !strings.Contains(rep.Results[0].Detail+rep.Results[1].Detail, "--verbose") {
		t.Errorf("install does not warn about the --verbose entry: %+v", rep.Results)
	}

	mustSucceed(t, uninstall(t, opts))
	if got := string(readBytes(t, cfgPath)); got != fixturePreCommitConfig {
		t.Fatalf("uninstall did not restore the configuration:\n%s", got)
	}
	mustSucceed(t, install(t, opts))
	if got := string(readBytes(t, cfgPath)); strings.Contains(got, "--verbose") || !strings.Contains(got, PreCommitEntry("gitleaks.toml")) {
		t.Fatalf("install did not write the current entry:\n%s", got)
	}
	if st, err := Inspect(context.Background(), opts); err != nil || strings.Contains(strings.Join(st.Problems, "\n"), "--verbose") {
		t.Errorf("status after the fix: %q, %v", st.Problems, err)
	}
}

func TestParseGitleaksReport(t *testing.T) {
	// The fields gitleaks 8.0 wrote (no Match; Secret and Context) and
	// 8.30 writes; a nested Fragment and Tags must not matter.
	in := `[
 {"Description": "d", "StartLine": 4, "Context": "k=v", "Secret": "REDACT", "File": "a/b.env", "Tags": [], "RuleID": "r1"},
 {"RuleID": "r2", "StartLine": 1, "Match": "m", "Secret": "s", "File": "c.txt", "Tags": ["x"], "Fragment": {"Raw": "z", "File": "no"}}
]`
	got, err := ParseGitleaksReport([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []GitleaksFinding{{File: "a/b.env", Line: 4, RuleID: "r1"}, {File: "c.txt", Line: 1, RuleID: "r2"}}
	if len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("got %+v", got)
	}
	for _, empty := range []string{"", " \n", "[]"} {
		if got, err := ParseGitleaksReport([]byte(empty)); err != nil || len(got) != 0 {
			t.Errorf("%q: %+v, %v", empty, got, err)
		}
	}
	if _, err := ParseGitleaksReport([]byte(`{"RuleID": 1`)); err == nil {
		t.Error("a broken report was accepted")
	}
}

func FuzzParseGitleaksReport(f *testing.F) {
	f.Add([]byte(`[{"RuleID":"r","File":"f","StartLine":1,"Match":"m"}]`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, in []byte) {
		got, err := ParseGitleaksReport(in)
		if err != nil && len(got) > 0 {
			t.Fatalf("findings with an error")
		}
	})
}
