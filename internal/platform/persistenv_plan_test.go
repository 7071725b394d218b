package platform

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/claire-de-binare/cdb-setup/internal/step"
	"github.com/claire-de-binare/cdb-setup/internal/testenv"
)

// fakeUserEnv stands in for HKCU\Environment where there is no registry. The
// real registry code is tested under Wine (userenv_windows_test.go); this
// fake only lets the steps' decisions (type, skip when unchanged, undo to the
// previous value) run on every machine. The broadcast effect cannot be
// observed anywhere but real Windows, so it is only counted.
type fakeUserEnv struct {
	vals       map[string]string
	expand     map[string]bool
	broadcasts int
	denied     bool
	sets       int
}

func newFakeUserEnv() *fakeUserEnv {
	return &fakeUserEnv{vals: map[string]string{}, expand: map[string]bool{}}
}

func (f *fakeUserEnv) Get(n string) (string, bool, bool, error) {
	v, ok := f.vals[n]
	return v, f.expand[n], ok, nil
}

func (f *fakeUserEnv) Set(n, v string, e bool) error {
	if f.denied {
		return errors.New("Access is denied.")
	}
	f.sets++
	f.vals[n], f.expand[n] = v, e
	return nil
}

func (f *fakeUserEnv) Delete(n string) error {
	delete(f.vals, n)
	delete(f.expand, n)
	return nil
}

func (f *fakeUserEnv) Broadcast() error { f.broadcasts++; return nil }

func runAll(t *testing.T, steps []step.Step) step.Report {
	t.Helper()
	rep, err := step.Run(context.Background(), steps, step.Options{KeepGoing: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rep.Results {
		if r.Status == step.StatusFailed {
			t.Fatalf("step %s failed: %s (fix: %s)", r.Step, r.Detail, r.Fix)
		}
	}
	return rep
}

func windowsOpts(t *testing.T, ue UserEnvStore) PersistOptions {
	dir := testenv.TempDir(t)
	st, _ := LoadState(dir)
	return PersistOptions{Facts: Facts{OS: "windows", Home: `C:\Users\u`}, Env: MapEnvironment{},
		State: st, StateDir: dir, Shells: true, UserEnv: ue}
}

func TestRegistryStepPlan(t *testing.T) {
	ue := newFakeUserEnv()
	ue.vals["WSLENV"] = "WT_SESSION:WT_PROFILE_ID"
	ue.vals[EnvVar] = `D:\old`
	o := windowsOpts(t, ue)
	o.Value, o.WSLENV = `%USERPROFILE%\Documents\.secrets\.cdb`, true
	steps, err := PersistEnvSteps(o)
	if err != nil {
		t.Fatal(err)
	}
	runAll(t, steps)
	if !ue.expand[EnvVar] || ue.vals[EnvVar] != o.Value {
		t.Errorf("want REG_EXPAND_SZ %q, got %q expand=%v", o.Value, ue.vals[EnvVar], ue.expand[EnvVar])
	}
	if ue.vals["WSLENV"] != "WT_SESSION:WT_PROFILE_ID:SECRETS_PATH/p" {
		t.Errorf("WSLENV = %q", ue.vals["WSLENV"])
	}
	if ue.broadcasts == 0 {
		t.Error("no broadcast after a change")
	}

	// Unchanged: no write, no broadcast.
	sets, bc := ue.sets, ue.broadcasts
	steps, _ = PersistEnvSteps(o)
	runAll(t, steps)
	if ue.sets != sets || ue.broadcasts != bc {
		t.Errorf("unchanged value rewritten (%d sets, %d broadcasts)", ue.sets-sets, ue.broadcasts-bc)
	}

	// A literal path is REG_SZ, even with a lone %.
	o.Value = `C:\Users\u\100% secrets`
	steps, _ = PersistEnvSteps(o)
	runAll(t, steps)
	if ue.expand[EnvVar] {
		t.Error("literal path written as REG_EXPAND_SZ")
	}

	// Undo puts back the value from before cdb-setup, not the one of the
	// first env set, and leaves WSLENV's other entries alone.
	runAll(t, UndoSteps(o.State, o.State.Records, EnvUndoers(), UndoContext{Facts: o.Facts, Env: o.Env, UserEnv: ue}))
	if ue.vals[EnvVar] != `D:\old` || ue.expand[EnvVar] {
		t.Errorf("after undo SECRETS_PATH = %q expand=%v", ue.vals[EnvVar], ue.expand[EnvVar])
	}
	if ue.vals["WSLENV"] != "WT_SESSION:WT_PROFILE_ID" {
		t.Errorf("after undo WSLENV = %q", ue.vals["WSLENV"])
	}
}

func TestRegistryAccessDenied(t *testing.T) {
	ue := newFakeUserEnv()
	ue.denied = true
	o := windowsOpts(t, ue)
	o.Value = `C:\s`
	steps, _ := PersistEnvSteps(o)
	rep, _ := step.Run(context.Background(), steps, step.Options{})
	if !rep.Failed() || !strings.Contains(rep.Results[0].Detail, "Access is denied") || rep.Results[0].Fix == "" {
		t.Errorf("results = %+v", rep.Results)
	}
	if len(o.State.Records) != 0 {
		t.Error("recorded a change that did not happen")
	}
}

// TestMacOSPlan checks the macOS choices with an injected environment: there
// is no launchctl on Linux, so the runner is a fake that records calls. The
// plist is written for real (to a temp home) and checked as data.
func TestMacOSPlan(t *testing.T) {
	home := testenv.TempDir(t)
	st, _ := LoadState(filepath.Join(home, "state"))
	var calls []string
	run := func(_ context.Context, name string, args ...string) ([]byte, error) {
		calls = append(calls, name+" "+strings.Join(args, " "))
		if len(args) > 0 && args[0] == "getenv" {
			return nil, errors.New("exit status 1")
		}
		return nil, nil
	}
	facts := Facts{OS: "darwin", Home: home, LoginShell: "/bin/zsh"}
	value := filepath.Join(home, "Documents", ".secrets", "a&b <c>")
	o := PersistOptions{Value: value, Facts: facts, Env: MapEnvironment{"HOME": home, "PATH": ""}, State: st,
		Shells: true, GUI: true, Run: run}
	steps, err := PersistEnvSteps(o)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, s := range steps {
		ids = append(ids, s.ID())
	}
	// zsh is the login shell, so .zshenv is created although no zsh is on
	// this PATH; bash is not, so no .bashrc is created.
	want := "env.rc..profile env.rc..bashrc env.rc..zshenv env.launch-agent env.launchctl"
	if strings.Join(ids, " ") != want {
		t.Errorf("steps = %v, want %s", ids, want)
	}
	runAll(t, steps)
	if _, err := os.Stat(filepath.Join(home, ".bashrc")); err == nil {
		t.Error(".bashrc created although bash is not the login shell")
	}
	plist, err := os.ReadFile(LaunchAgentPath(facts))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"<string>/bin/launchctl</string>", "<string>setenv</string>", "<string>SECRETS_PATH</string>",
		"a&amp;b &lt;c&gt;", "<key>RunAtLoad</key>", LaunchAgentLabel} {
		if !strings.Contains(string(plist), s) {
			t.Errorf("plist lacks %q", s)
		}
	}
	if calls[len(calls)-1] != "launchctl setenv SECRETS_PATH "+value {
		t.Errorf("launchctl calls = %q", calls)
	}
	runAll(t, UndoSteps(st, st.Records, EnvUndoers(), UndoContext{Facts: facts, Env: o.Env, Run: run}))
	if _, err := os.Stat(LaunchAgentPath(facts)); err == nil {
		t.Error("LaunchAgent left after undo")
	}
	if calls[len(calls)-1] != "launchctl unsetenv SECRETS_PATH" {
		t.Errorf("undo did not unsetenv: %q", calls)
	}
}

func TestLinuxGUIAndComposeEnv(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Linux plan with Unix paths: a C:\\ temp path is a value environment.d refuses (by design)")
	}
	home := testenv.TempDir(t)
	st, _ := LoadState(filepath.Join(home, "state"))
	facts := Facts{OS: "linux", Home: home}
	compose := filepath.Join(home, "repo", "infrastructure", "compose", ".env")
	os.MkdirAll(filepath.Dir(compose), 0o755)
	os.WriteFile(compose, []byte("STACK_NAME=cdb"), 0o644)
	o := PersistOptions{Value: filepath.Join(home, "s p"), Facts: facts, Env: MapEnvironment{"HOME": home}, State: st,
		GUI: true, ComposeEnv: compose}
	steps, err := PersistEnvSteps(o)
	if err != nil {
		t.Fatal(err)
	}
	runAll(t, steps)
	b, _ := os.ReadFile(EnvironmentDPath(facts, o.Env))
	if !strings.Contains(string(b), `SECRETS_PATH="`+o.Value+`"`) {
		t.Errorf("environment.d = %q", b)
	}
	b, _ = os.ReadFile(compose)
	if !strings.HasPrefix(string(b), "STACK_NAME=cdb\n"+BlockBegin) || !strings.Contains(string(b), "SECRETS_PATH='"+o.Value+"'") {
		t.Errorf(".env = %q", b)
	}
	runAll(t, UndoSteps(st, st.Records, EnvUndoers(), UndoContext{Facts: facts, Env: o.Env}))
	if b, _ := os.ReadFile(compose); string(b) != "STACK_NAME=cdb" {
		t.Errorf(".env after undo = %q", b)
	}

	// Values environment.d cannot hold are refused up front, not mangled.
	o.Value = "/x/$HOME"
	if _, err := PersistEnvSteps(o); err == nil || !strings.Contains(err.Error(), "environment.d") {
		t.Errorf("err = %v", err)
	}
}

func TestUnknownKindReported(t *testing.T) {
	st, _ := LoadState(testenv.TempDir(t))
	st.Put(Record{Step: "hook.install", Kind: "hook", Target: "/repo/.git/hooks/pre-commit"})
	rep, _ := step.Run(context.Background(), UndoSteps(st, st.Records, EnvUndoers(), UndoContext{}), step.Options{KeepGoing: true})
	if !rep.Failed() || !strings.Contains(rep.Results[0].Detail, `"hook"`) {
		t.Errorf("results = %+v", rep.Results)
	}
	if len(st.Records) != 1 {
		t.Error("the unknown record was dropped")
	}
}
