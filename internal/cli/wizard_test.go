package cli

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/claire-de-binare/cdb-setup/internal/exitcode"
	"github.com/claire-de-binare/cdb-setup/internal/platform"
	"github.com/claire-de-binare/cdb-setup/internal/setup"
	"github.com/claire-de-binare/cdb-setup/internal/step"
	"github.com/claire-de-binare/cdb-setup/internal/testenv"
	"github.com/claire-de-binare/cdb-setup/internal/wizard"
)

// A value that must never appear in any output or saved file.
const testSecret = "Sup3rS3cretSmtpValue"

type wizardHarness struct {
	home, repo string
	env        platform.MapEnvironment
	out, err   bytes.Buffer
	ctx        context.Context
	cancel     context.CancelFunc
}

func newWizardHarness(t *testing.T) *wizardHarness {
	t.Helper()
	home := testenv.TempDir(t)
	repo := filepath.Join(testenv.TempDir(t), "repo")
	copyTree(t, "testdata/cdbrepo", repo)
	h := &wizardHarness{home: home, repo: repo, env: platform.MapEnvironment{"HOME": home, "PATH": "",
		"USERPROFILE": home, "LOCALAPPDATA": filepath.Join(home, "AppData", "Local")}}
	h.ctx, h.cancel = context.WithCancel(context.Background())
	t.Cleanup(h.cancel)
	return h
}

// copyTree copies a folder of test files as they are (copyDemo without edits).
func copyTree(t *testing.T, from, to string) {
	t.Helper()
	copyDemo(t, from, to, func(_ string, b []byte) []byte { return b })
}

// stateDir is where this OS keeps the state file under the temp home.
func (h *wizardHarness) stateDir(t *testing.T) string {
	d, err := platform.StateDir(h.env, runtime.GOOS)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func (h *wizardHarness) factory(args ...string) *Factory {
	g := &GlobalOptions{}
	return &Factory{IO: &IOStreams{In: strings.NewReader(""), Out: &h.out, ErrOut: &h.err}, Global: g, Env: h.env, Context: h.ctx}
}

// run runs the real command line with the wizard's collaborators replaced.
func (h *wizardHarness) run(t *testing.T, configure func(*WizardOptions), args ...string) int {
	t.Helper()
	h.out.Reset()
	h.err.Reset()
	f := h.factory()
	root := newRootCmd(f, func(o *WizardOptions) error {
		if configure != nil {
			configure(o)
		}
		return wizardRun(o)
	})
	return execute(h.ctx, f, root, append([]string{"--repo", h.repo}, args...))
}

// fileStep writes one file under HOME: a stand-in for the other packages'
// steps, real enough to prove what ran and what did not.
type fileStep struct {
	id, path string
	onApply  func()
}

func (s fileStep) ID() string { return s.id }
func (s fileStep) Plan(context.Context) (step.Change, error) {
	if _, err := os.Stat(s.path); err == nil {
		return step.Change{Step: s.id, None: true, Summary: s.id + " already done"}, nil
	}
	return step.Change{Step: s.id, Summary: "write " + s.path, Targets: []string{s.path}}, nil
}
func (s fileStep) Apply(context.Context) (step.Result, error) {
	if _, err := os.Stat(s.path); err == nil {
		return step.Result{Step: s.id, Status: step.StatusDone, Detail: s.id + " already done"}, nil
	}
	if s.onApply != nil {
		s.onApply()
	}
	if err := os.WriteFile(s.path, []byte(s.id), 0o600); err != nil {
		return step.Result{}, err
	}
	return step.Result{Step: s.id, Status: step.StatusChanged, Detail: s.id + " written"}, nil
}

func (h *wizardHarness) builders(seen *setup.Input) *setup.Builders {
	mk := func(id string) setup.Builder {
		return func(_ context.Context, in setup.Input) ([]step.Step, error) {
			if seen != nil {
				*seen = in
			}
			return []step.Step{fileStep{id: id, path: filepath.Join(h.home, id)}}, nil
		}
	}
	return &setup.Builders{KeychainRestore: mk("keychain.restore"), Secrets: mk("secrets.init"), KeychainPush: mk("keychain.push"),
		Persist: mk("env.set"), Hook: mk("hook.install"), Preflight: mk("stack.preflight"), Up: mk("stack.up")}
}

func (h *wizardHarness) allAreas(seen *setup.Input) func(*WizardOptions) {
	return func(o *WizardOptions) {
		o.Builders = h.builders(seen)
		o.KeychainAnswers = func(context.Context) bool { return true }
	}
}

func gitInit(t *testing.T, dir string) {
	t.Helper()
	git := testenv.NeedCommand(t, "git")
	out, err := exec.Command(git, "-C", dir, "init", "-q").CombinedOutput()
	if err != nil {
		t.Fatalf("git init: %v\n%s", err, out)
	}
}

func TestWizardWithoutTTYListsEveryMissingAnswer(t *testing.T) {
	h := newWizardHarness(t)
	code := h.run(t, h.allAreas(nil))
	if code != exitcode.Environment {
		t.Fatalf("exit %d, want 3\n%s", code, h.err.String())
	}
	got := h.err.String()
	for _, want := range []string{"(no terminal) and 6 answer(s) are missing", "--secrets-path DIR", "--profile NAME", "--keychain=true|false",
		"--persist LIST", "--hook=true|false", "--start=true|false", "--yes"} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in:\n%s", want, got)
		}
	}
	if entries, _ := os.ReadDir(h.home); len(entries) != 0 {
		t.Errorf("a failed run changed HOME: %v", entries)
	}
}

func TestWizardMissingWithCIAndJSON(t *testing.T) {
	h := newWizardHarness(t)
	h.env["CI"] = "true"
	h.env["CDB_SETUP_PROFILE"] = "dev"
	code := h.run(t, h.allAreas(nil), "--json", "--secrets-path", filepath.Join(h.home, "s"))
	if code != exitcode.Environment {
		t.Fatalf("exit %d", code)
	}
	var out struct {
		OK   bool
		Data struct{ Missing []wizard.MissingAnswer }
	}
	if err := json.Unmarshal(h.out.Bytes(), &out); err != nil || out.OK {
		t.Fatalf("%v\n%s", err, h.out.String())
	}
	if len(out.Data.Missing) != 4 {
		t.Errorf("want keychain, persist, hook, start missing; got %+v", out.Data.Missing)
	}
}

func TestWizardAnswersFile(t *testing.T) {
	h := newWizardHarness(t)
	ans := filepath.Join(h.home, "answers.yaml")
	secretsDir := filepath.Join(h.home, "secrets")
	os.WriteFile(ans, []byte(fmt.Sprintf("secrets_path: %s\nprofile: dev\noverlays: [logging]\nkeychain: false\npersist: [shells, compose-env]\nhook: true\nstart: true\nexternal:\n  SMTP_PASSWORD: %s\n", secretsDir, testSecret)), 0o600)
	var seen setup.Input
	code := h.run(t, h.allAreas(&seen), "--answers", ans, "--json")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, h.err.String())
	}
	a := seen.Answers
	if a.SecretsPath != secretsDir || a.Profile != "dev" || len(a.Overlays) != 1 || *a.Keychain || !a.Wants("compose-env") || !*a.Hook || !*a.Start {
		t.Errorf("answers: %+v", a)
	}
	if a.External["SMTP_PASSWORD"] != testSecret {
		t.Error("the external secret did not reach the steps")
	}
	for _, id := range []string{"secrets.init", "env.set", "hook.install", "stack.preflight", "stack.up"} {
		if _, err := os.Stat(filepath.Join(h.home, id)); err != nil {
			t.Errorf("step %s did not run", id)
		}
	}
	if _, err := os.Stat(filepath.Join(h.home, "keychain.push")); err == nil {
		t.Errorf("declined step keychain.push ran")
	}
	if _, err := os.Stat(filepath.Join(h.home, "keychain.restore")); err != nil {
		t.Errorf("restoring from the keychain must run even without the mirror")
	}
	stderr := h.err.String()
	for _, want := range []string{"The plan:", "mirror the secrets into the OS keychain: skipped (you chose no keychain mirror)", "env.set written", "Done in",
		"cdb_grafana: http://127.0.0.1:3000 (user admin, password in " + filepath.Join(secretsDir, "GRAFANA_PASSWORD") + ")", "What to restart:"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("missing %q in:\n%s", want, stderr)
		}
	}
	saved, _ := os.ReadFile(filepath.Join(h.stateDir(t), setup.AnswersFileName))
	for what, b := range map[string]string{"stderr": stderr, "stdout": h.out.String(), "saved answers": string(saved)} {
		if strings.Contains(b, testSecret) {
			t.Errorf("%s contains the secret value", what)
		}
	}
	var rep Envelope
	if err := json.Unmarshal(h.out.Bytes(), &rep); err != nil || len(rep.Results) != 8 || !rep.OK {
		t.Errorf("json: %v %+v", err, rep)
	}

	// A re-run takes the saved answers: no flags, no questions, nothing to do.
	code = h.run(t, h.allAreas(nil), "--no-input")
	if code != 0 || !strings.Contains(h.err.String(), "Everything already done ✓") {
		t.Errorf("re-run exit %d:\n%s", code, h.err.String())
	}
}

func TestWizardAnswersFileErrors(t *testing.T) {
	h := newWizardHarness(t)
	ans := filepath.Join(h.home, "answers.yaml")
	os.WriteFile(ans, []byte("persits: [shells]\n"), 0o600)
	if code := h.run(t, nil, "--answers", ans); code != exitcode.Usage || !strings.Contains(h.err.String(), "persits") {
		t.Errorf("exit %d:\n%s", code, h.err.String())
	}
	notHere := "wsl" // WSLENV is a Windows variable
	if runtime.GOOS == "windows" {
		notHere = "gui" // the user environment already reaches desktop programs
	}
	if code := h.run(t, h.allAreas(nil), "--yes", "--persist", notHere); code != exitcode.Usage || !strings.Contains(h.err.String(), `persist "`+notHere+`" does not apply`) {
		t.Errorf("exit %d:\n%s", code, h.err.String())
	}
	if code := h.run(t, nil, "--yes", "--profile", "staging"); code != exitcode.Usage || !strings.Contains(h.err.String(), `unknown profile "staging"`) {
		t.Errorf("exit %d:\n%s", code, h.err.String())
	}
}

// snapshot records every path, mode and content hash under dirs.
func snapshot(t *testing.T, dirs ...string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, d := range dirs {
		filepath.WalkDir(d, func(p string, e fs.DirEntry, err error) error {
			if err != nil {
				return nil
			}
			fi, _ := os.Lstat(p)
			v := fi.Mode().String()
			if e.Type().IsRegular() {
				b, _ := os.ReadFile(p)
				v += fmt.Sprintf(" %x", sha256.Sum256(b))
			}
			out[p] = v
			return nil
		})
	}
	return out
}

func TestWizardDryRunChangesNothing(t *testing.T) {
	h := newWizardHarness(t)
	before := snapshot(t, h.home, h.repo)
	code := h.run(t, h.allAreas(nil), "--yes", "--dry-run")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, h.err.String())
	}
	after := snapshot(t, h.home, h.repo)
	if fmt.Sprint(before) != fmt.Sprint(after) {
		t.Errorf("dry run changed the file system:\nbefore %v\nafter  %v", before, after)
	}
	for _, want := range []string{"write " + filepath.Join(h.home, "secrets.init"), "Dry run: nothing was changed."} {
		if !strings.Contains(h.err.String(), want) {
			t.Errorf("missing %q in:\n%s", want, h.err.String())
		}
	}
}

func TestWizardNotAvailableIsNeverFaked(t *testing.T) {
	h := newWizardHarness(t)
	code := h.run(t, func(o *WizardOptions) { o.Builders = &setup.Builders{} }, "--yes")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, h.err.String())
	}
	if !strings.Contains(h.err.String(), "- secrets folder and files: not available in this version") {
		t.Errorf("%s", h.err.String())
	}
	if _, err := os.Stat(filepath.Join(h.home, "Documents")); err == nil {
		t.Error("an unavailable step created something")
	}
}

func TestWizardInterruptedBetweenSteps(t *testing.T) {
	h := newWizardHarness(t)
	code := h.run(t, func(o *WizardOptions) {
		b := h.builders(nil)
		b.Persist = func(context.Context, setup.Input) ([]step.Step, error) {
			// Ctrl-C arrives while this step works: it finishes, nothing after it starts.
			return []step.Step{fileStep{id: "env.set", path: filepath.Join(h.home, "env.set"), onApply: h.cancel}}, nil
		}
		o.Builders = b
		o.KeychainAnswers = func(context.Context) bool { return true }
	}, "--yes")
	if code != exitcode.Interrupted {
		t.Fatalf("exit %d\n%s", code, h.err.String())
	}
	if _, err := os.Stat(filepath.Join(h.home, "env.set")); err != nil {
		t.Error("the step that was running did not finish")
	}
	if _, err := os.Stat(filepath.Join(h.home, "hook.install")); err == nil {
		t.Error("a step after the interruption ran")
	}
	if !strings.Contains(h.err.String(), "Interrupted. Every step listed above is complete") || !strings.Contains(h.err.String(), "✓ env.set written") {
		t.Errorf("%s", h.err.String())
	}
	if _, err := platform.LoadState(h.stateDir(t)); err != nil {
		t.Errorf("state file inconsistent: %v", err)
	}
}

func TestWizardCancelledQuestionsChangeNothing(t *testing.T) {
	h := newWizardHarness(t)
	code := h.run(t, func(o *WizardOptions) {
		o.F.IO.InTTY, o.F.IO.ErrTTY = true, true
		o.Ask = func(context.Context, wizard.FormOptions) (wizard.Answers, error) {
			return wizard.Answers{}, wizard.ErrAborted
		}
		// The first question may be whether to go on without Docker.
		o.YesNo = func(context.Context, wizard.FormOptions, string, string, string, string, bool) (bool, error) {
			return false, wizard.ErrAborted
		}
	})
	if code != exitcode.Interrupted || !strings.Contains(h.err.String(), "Nothing was changed") {
		t.Fatalf("exit %d\n%s", code, h.err.String())
	}
	if entries, _ := os.ReadDir(h.home); len(entries) != 0 {
		t.Errorf("HOME changed: %v", entries)
	}
}

func TestSensitiveName(t *testing.T) {
	for name, want := range map[string]bool{"SMTP_USER": false, "SMTP_FROM": false, "ALERT_EMAIL_TO": false, "SMTP_PASSWORD": true, "MEXC_API_KEY.txt": true, "MEXC_API_SECRET.txt": true, "TOKEN": true} {
		if got := sensitiveName(name); got != want {
			t.Errorf("%s: %v", name, got)
		}
	}
}

// The hook area wired to the real hook package, real git and gitleaks.
func TestWizardInstallsHookWithRealGitleaks(t *testing.T) {
	gl := testenv.NeedCommand(t, "gitleaks")
	git := testenv.NeedCommand(t, "git")
	h := newWizardHarness(t)
	h.env["PATH"] = filepath.Dir(gl) + string(os.PathListSeparator) + filepath.Dir(git)
	gitInit(t, h.repo)
	code := h.run(t, func(o *WizardOptions) {
		b := setupBuilders(o.F)
		o.Builders = &b
	}, "--yes", "--start=false")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, h.err.String())
	}
	if _, err := os.Stat(filepath.Join(h.repo, ".git", "hooks", "pre-commit")); err != nil {
		t.Fatalf("no hook installed: %v\n%s", err, h.err.String())
	}
	code = h.run(t, func(o *WizardOptions) {
		b := setupBuilders(o.F)
		o.Builders = &b
	}, "--no-input")
	if code != 0 || !strings.Contains(h.err.String(), "Everything already done ✓") {
		t.Errorf("re-run exit %d:\n%s", code, h.err.String())
	}
}

func TestMinTTYMessage(t *testing.T) {
	if m := minttyMessage(true, true); !strings.Contains(m, "winpty cdb-setup") || !strings.Contains(m, "Windows Terminal") {
		t.Errorf("%q", m)
	}
	if minttyMessage(true, false) != "" || minttyMessage(false, true) != "" {
		t.Error("message where none applies (--yes given, or a real console)")
	}
}

// --dry-run with the real steps (secrets, SECRETS_PATH, hook, keychain):
// the plan lists their changes, and nothing under HOME or the repo moves.
func TestWizardDryRunRealStepsChangeNothing(t *testing.T) {
	h := newWizardHarness(t)
	if git, err := exec.LookPath("git"); err == nil {
		h.env["PATH"] = filepath.Dir(git)
		gitInit(t, h.repo)
	}
	dir := filepath.Join(h.home, "Documents", ".secrets", ".cdb")
	before := snapshot(t, h.home, h.repo)
	code := h.run(t, func(o *WizardOptions) {
		b := setupBuilders(o.F)
		o.Builders = &b
	}, "--yes", "--dry-run", "--secrets-path", dir, "--persist", "shells", "--hook=false")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, h.err.String())
	}
	if after := snapshot(t, h.home, h.repo); fmt.Sprint(before) != fmt.Sprint(after) {
		t.Errorf("dry run changed the file system:\nbefore %v\nafter  %v", before, after)
	}
	for _, want := range []string{dir, "REDIS_PASSWORD", "Dry run: nothing was changed."} {
		if !strings.Contains(h.err.String(), want) {
			t.Errorf("plan lacks %q:\n%s", want, h.err.String())
		}
	}
}

// Documents synced by OneDrive: the welcome says so and the secrets folder
// inside it gets a warning with the alternative.
func TestWizardWarnsAboutCloudSyncedDocuments(t *testing.T) {
	h := newWizardHarness(t)
	code := h.run(t, func(o *WizardOptions) {
		facts, err := o.F.Facts()
		if err != nil {
			t.Fatal(err)
		}
		facts.CloudSync = "OneDrive"
		o.F.facts = &facts
		o.Builders = &setup.Builders{}
	}, "--yes", "--dry-run")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, h.err.String())
	}
	for _, want := range []string{"! synced by OneDrive", "the secrets will be uploaded to the cloud", filepath.Join(h.home, ".secrets", ".cdb")} {
		if !strings.Contains(h.err.String(), want) {
			t.Errorf("missing %q:\n%s", want, h.err.String())
		}
	}
}

// needsStep's plan fails until another step has made its file.
type needsStep struct{ id, needs string }

func (s needsStep) ID() string { return s.id }
func (s needsStep) Plan(context.Context) (step.Change, error) {
	if _, err := os.Stat(s.needs); err != nil {
		return step.Change{}, step.WithFix(fmt.Errorf("%s is missing", filepath.Base(s.needs)), "make it")
	}
	return step.Change{Step: s.id, None: true, Summary: s.id + " consistent"}, nil
}
func (s needsStep) Apply(context.Context) (step.Result, error) {
	return step.Result{Step: s.id, Status: step.StatusDone, Detail: s.id + " consistent"}, nil
}

func TestWizardPlanFailureAnEarlierAreaFixes(t *testing.T) {
	h := newWizardHarness(t)
	restored := filepath.Join(h.home, "keychain.restore")
	withNeeds := func(o *WizardOptions) {
		b := h.builders(nil)
		b.Secrets = func(context.Context, setup.Input) ([]step.Step, error) {
			return []step.Step{needsStep{id: "secrets.dsn", needs: restored}}, nil
		}
		o.Builders = b
		o.KeychainAnswers = func(context.Context) bool { return true }
	}
	if code := h.run(t, withNeeds, "--yes"); code != 0 {
		t.Fatalf("exit %d\n%s", code, h.err.String())
	}
	if !strings.Contains(h.err.String(), "… plan: keychain.restore is missing (checked again after the changes above)") || !strings.Contains(h.err.String(), "✓ secrets.dsn consistent") {
		t.Errorf("%s", h.err.String())
	}
	// Nothing before it to fix it: the plan stops the run before any change.
	os.Remove(restored)
	code := h.run(t, func(o *WizardOptions) {
		withNeeds(o)
		o.Builders.KeychainRestore = nil
	}, "--yes")
	if code != exitcode.Failed || !strings.Contains(h.err.String(), "Nothing was changed. Fix the problem above") {
		t.Errorf("exit %d\n%s", code, h.err.String())
	}
}

// A plan failure in an area nothing before it feeds (the hook) stops the
// first run before any change, even though other areas have work to do.
func TestWizardUnrelatedPlanFailureStopsBeforeChanges(t *testing.T) {
	h := newWizardHarness(t)
	code := h.run(t, func(o *WizardOptions) {
		b := h.builders(nil)
		b.Hook = func(context.Context, setup.Input) ([]step.Step, error) {
			return []step.Step{needsStep{id: "hook.gitleaks", needs: filepath.Join(h.home, "gitleaks")}}, nil
		}
		o.Builders = b
	}, "--yes")
	if code != exitcode.Failed || !strings.Contains(h.err.String(), "✗ plan: gitleaks is missing") {
		t.Fatalf("exit %d\n%s", code, h.err.String())
	}
	if _, err := os.Stat(filepath.Join(h.home, "secrets.init")); err == nil {
		t.Errorf("an area was applied although the plan failed:\n%s", h.err.String())
	}
}

// Issue 14: Ctrl-C during the wizard's `up` is an interruption (exit 130),
// not "✗ failed / fix: cdb-setup up --profile dev / Setup stopped: 1 failed".
func TestWizardInterruptedDuringUp(t *testing.T) {
	h := newWizardHarness(t)
	code := h.run(t, func(o *WizardOptions) {
		b := h.builders(nil)
		b.Up = func(context.Context, setup.Input) ([]step.Step, error) {
			return []step.Step{&setup.CommandStep{StepID: "stack.up", Summary: "start the stack (dev)", Fix: "cdb-setup up --profile dev",
				Run: func(ctx context.Context) (bool, error) {
					h.cancel() // Ctrl-C while compose runs
					<-ctx.Done()
					return false, fmt.Errorf("docker compose up: %w", ctx.Err())
				}}}, nil
		}
		o.Builders = b
		o.KeychainAnswers = func(context.Context) bool { return true }
	}, "--yes")
	out := h.err.String()
	if code != exitcode.Interrupted {
		t.Fatalf("exit %d\n%s", code, out)
	}
	if !strings.Contains(out, "Interrupted while it was working on: start the stack (dev).") {
		t.Errorf("no interruption message:\n%s", out)
	}
	for _, bad := range []string{"Setup stopped", "fix: cdb-setup up", "✗"} {
		if strings.Contains(out, bad) {
			t.Errorf("output says %q:\n%s", bad, out)
		}
	}
}

// Issue 14: a wizard failure ends with the failing check's own fix, not
// the generic "fix: cdb-setup up --profile dev".
func TestWizardFailureShowsTheChecksOwnFix(t *testing.T) {
	env, home := fixtureEnv(t)
	env["DOCKER_HOST"] = "unix://" + filepath.Join(testenv.TempDir(t), "no-docker.sock")
	r := runCLI(t, env, "", "--yes", "--secrets-path", filepath.Join(home, "s"), "--persist", "none", "--hook=false")
	// The Engine is checked before any question: exit 3, nothing changed.
	if r.code != exitcode.Environment {
		t.Fatalf("exit %d, want 3\n%s", r.code, r.stderr)
	}
	i := strings.Index(r.stderr, "✗ Docker Engine reachable")
	if i < 0 {
		t.Fatalf("no Engine check failure:\n%s", r.stderr)
	}
	tail := r.stderr[i:]
	// The Engine check's own fix is rendered for the OS (Linux: DOCKER_HOST;
	// Windows and macOS: Docker Desktop), never the generic rerun.
	own := "Fix: check DOCKER_HOST"
	if runtime.GOOS != "linux" {
		own = "Fix: start Docker Desktop"
	}
	if !strings.Contains(tail, "✗ The stack cannot start on this machine") || !strings.Contains(tail, own) || strings.Contains(tail, "fix: cdb-setup up --profile") {
		t.Errorf("the failure does not end with the check's own fix:\n%s", tail)
	}
}
