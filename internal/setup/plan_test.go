package setup

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
	"github.com/claire-de-binare/cdb-setup/internal/wizard"
	"github.com/claire-de-binare/cdb-setup/internal/workspace"
)

type fakeStep struct{ id string }

func (f fakeStep) ID() string { return f.id }
func (f fakeStep) Plan(context.Context) (step.Change, error) {
	return step.Change{Step: f.id, Summary: f.id}, nil
}
func (f fakeStep) Apply(context.Context) (step.Result, error) {
	return step.Result{Step: f.id, Status: step.StatusChanged}, nil
}

func build(ids ...string) Builder {
	return func(context.Context, Input) ([]step.Step, error) {
		var out []step.Step
		for _, id := range ids {
			out = append(out, fakeStep{id})
		}
		return out, nil
	}
}

func ids(steps []step.Step) string {
	var s []string
	for _, st := range steps {
		s = append(s, st.ID())
	}
	return strings.Join(s, " ")
}

func TestPlanOrderAndPlaceholders(t *testing.T) {
	all := Builders{
		KeychainRestore: build("kr"), Secrets: build("s1", "s2"), KeychainPush: build("kp"),
		Persist: build("env"), Hook: build("hook"), Preflight: build("pre"), Up: build("up"),
	}
	yes := wizard.Answers{Keychain: wizard.Bool(true), Persist: []string{"shells"}, Hook: wizard.Bool(true), Start: wizard.Bool(true)}
	no := wizard.Answers{Keychain: wizard.Bool(false), Persist: []string{}, Hook: wizard.Bool(false), Start: wizard.Bool(false)}
	for _, tc := range []struct {
		name string
		a    wizard.Answers
		b    Builders
		want string
	}{
		{"everything", yes, all, "wizard.answers kr s1 s2 kp env hook pre up"},
		{"declined", no, all, "wizard.answers kr s1 s2 keychain.push env hook stack.preflight stack.up"},
		{"nothing built yet", yes, Builders{}, "wizard.answers keychain.restore secrets keychain.push env hook stack.preflight stack.up"},
		{"up checks its own preflight", yes, func() Builders { b := all; b.Preflight = nil; return b }(), "wizard.answers kr s1 s2 kp env hook up"},
		{"no keychain answers", yes, func() Builders { b := all; b.NoKeychain = "no OS keychain answers"; return b }(), "wizard.answers keychain.restore s1 s2 keychain.push env hook pre up"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			steps, err := planAll(context.Background(), Input{Answers: tc.a, Workspace: &workspace.Workspace{StateDir: testenv.TempDir(t)}}, tc.b)
			if err != nil {
				t.Fatal(err)
			}
			if got := ids(steps); got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}

func TestPlanPlaceholdersSayWhy(t *testing.T) {
	a := wizard.Answers{Keychain: wizard.Bool(false), Persist: []string{"shells"}, Hook: wizard.Bool(true), Start: wizard.Bool(false)}
	var steps []step.Step
	var err error
	b := Builders{KeychainPush: build("kp"), Up: build("up")}
	steps, err = planAll(context.Background(), Input{Answers: a, Workspace: &workspace.Workspace{StateDir: testenv.TempDir(t)}}, b)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := step.Run(context.Background(), steps, step.Options{DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	text := ""
	for _, c := range rep.Plans {
		text += c.Summary + "\n"
	}
	for _, want := range []string{
		"SECRETS_PATH for new shells: " + NotAvailable,
		"gitleaks pre-commit hook: " + NotAvailable,
		"mirror the secrets into the OS keychain: skipped (you chose no keychain mirror)",
		"start the stack and wait until healthy: skipped (you chose not to start the stack)",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("plan lacks %q:\n%s", want, text)
		}
	}
}

func TestPlanBuilderErrorNamesArea(t *testing.T) {
	b := Builders{Secrets: func(context.Context, Input) ([]step.Step, error) { return nil, errors.New("boom") }}
	_, err := planAll(context.Background(), Input{Workspace: &workspace.Workspace{StateDir: testenv.TempDir(t)}}, b)
	if err == nil || !strings.Contains(err.Error(), "secrets folder and files: boom") {
		t.Fatalf("err %v", err)
	}
}

func TestSaveAnswersIdempotentAndSecretFree(t *testing.T) {
	dir := filepath.Join(testenv.TempDir(t), "state")
	sp := filepath.Join(dir, "s")
	a := wizard.Answers{SecretsPath: sp, Profile: "dev", External: map[string]string{"SMTP_PASSWORD": "Sup3rS3cretValue"}}
	s := &SaveAnswers{Dir: dir, Answers: a}
	c, _ := s.Plan(context.Background())
	if c.None {
		t.Fatal("first plan says nothing to do")
	}
	r, err := s.Apply(context.Background())
	if err != nil || r.Status != step.StatusChanged {
		t.Fatalf("%+v %v", r, err)
	}
	b, _ := os.ReadFile(filepath.Join(dir, AnswersFileName))
	if strings.Contains(string(b), "Sup3rS3cretValue") {
		t.Fatal("answers file holds a secret value")
	}
	if fi, _ := os.Stat(filepath.Join(dir, AnswersFileName)); runtime.GOOS != "windows" && fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v", fi.Mode())
	}
	if c, _ := s.Plan(context.Background()); !c.None {
		t.Error("second plan wants to change")
	}
	if r, _ := s.Apply(context.Background()); r.Status != step.StatusDone {
		t.Errorf("second apply: %+v", r)
	}
	back, err := workspace.LoadSaved(dir)
	if err != nil || back.SecretsPath != sp || back.External != nil {
		t.Fatalf("%+v %v", back, err)
	}
}

// planAll is PlanGroups flattened.
func planAll(ctx context.Context, in Input, b Builders) ([]step.Step, error) {
	groups, err := PlanGroups(ctx, in, b)
	if err != nil {
		return nil, err
	}
	var out []step.Step
	for _, g := range groups {
		out = append(out, g.Steps...)
	}
	return out, nil
}
