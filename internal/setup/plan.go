// Package setup turns the wizard's answers into the ordered list of steps a
// full setup runs. It is pure: it decides, the steps (from the secrets, env,
// keychain, hook and stack packages) act. The cli layer hands it one Builder
// per area; an area whose Builder is nil is shown as "not available in this
// version" — never faked.
package setup

import (
	"context"
	"fmt"

	"github.com/claire-de-binare/cdb-setup/internal/platform"
	"github.com/claire-de-binare/cdb-setup/internal/step"
	"github.com/claire-de-binare/cdb-setup/internal/wizard"
	"github.com/claire-de-binare/cdb-setup/internal/workspace"
)

// Input is everything the steps of a setup are built from.
type Input struct {
	Answers wizard.Answers
	// Workspace is where everything is (repo, manifest, secrets folder as
	// answered, project, state folder, facts).
	*workspace.Workspace
	Env platform.Environment
	// State receives what the steps change (for uninstall).
	State *platform.State
}

// Builder returns the steps of one area for in.
type Builder func(ctx context.Context, in Input) ([]step.Step, error)

// Builders are the areas of a setup, in the order they run. The order
// matters: the keychain restores secret files before init would generate new
// ones (a reinstall must not lock itself out of its own volumes), the
// preflight compares volumes with the files before up starts anything.
type Builders struct {
	KeychainRestore Builder
	Secrets         Builder
	KeychainPush    Builder
	Persist         Builder
	Hook            Builder
	Preflight       Builder
	Up              Builder
	// NoKeychain, when set, says why the keychain areas cannot run on this
	// machine although this version has them ("no OS keychain answers").
	NoKeychain string
	// NoStack, when set, says why the stack cannot start on this machine
	// (Docker unreachable, no Compose v2) and the user chose to set up the
	// rest: the stack areas are skipped with this reason.
	NoStack string
}

// Area is one part of the plan as the wizard explains it.
type Area struct {
	ID    string
	Title string
	// Wanted is false when the answers declined it; Why then says so.
	Wanted bool
	Why    string
	Build  Builder
}

// Areas lists the areas for these answers, available or not.
func Areas(a wizard.Answers, b Builders) []Area {
	start := a.Start != nil && *a.Start
	keychain := a.Keychain != nil && *a.Keychain
	hook := a.Hook != nil && *a.Hook
	keychainWhy := "you chose no keychain mirror"
	// Restoring only reads the keychain and only fills missing files: it
	// runs whenever a keychain answers, even when the user declines the
	// mirror now, because new passwords would lock out existing volumes.
	restore := true
	if b.NoKeychain != "" {
		keychain, restore, keychainWhy = false, false, b.NoKeychain
	}
	startWhy := "you chose not to start the stack"
	if b.NoStack != "" {
		start, startWhy = false, b.NoStack
	}
	return []Area{
		{ID: "keychain.restore", Title: "restore missing secret files from the OS keychain", Wanted: restore, Why: keychainWhy, Build: b.KeychainRestore},
		{ID: "secrets", Title: "secrets folder and files", Wanted: true, Build: b.Secrets},
		{ID: "keychain.push", Title: "mirror the secrets into the OS keychain", Wanted: keychain, Why: keychainWhy, Build: b.KeychainPush},
		{ID: "env", Title: "SECRETS_PATH for new shells", Wanted: len(a.Persist) > 0, Why: "you chose not to persist SECRETS_PATH", Build: b.Persist},
		{ID: "hook", Title: "gitleaks pre-commit hook", Wanted: hook, Why: "you chose no hook", Build: b.Hook},
		{ID: "stack.preflight", Title: "check volumes, ports and Docker before starting", Wanted: start, Why: startWhy, Build: b.Preflight},
		{ID: "stack.up", Title: "start the stack and wait until healthy", Wanted: start, Why: startWhy, Build: b.Up},
	}
}

// Group is the steps of one area.
type Group struct {
	Area  string
	Steps []step.Step
	// DependsOn names the earlier areas whose changes this area's plan
	// reads (the secret files): while they have changes pending, a plan
	// failure here may be one they fix.
	DependsOn []string
}

// dependsOn: which areas read what which earlier areas write.
var dependsOn = map[string][]string{
	"secrets":         {"keychain.restore"},
	"keychain.push":   {"keychain.restore", "secrets"},
	"stack.preflight": {"keychain.restore", "secrets"},
	"stack.up":        {"keychain.restore", "secrets"},
}

// PlanGroups returns every step of the setup, in order, one group per area:
// a group is planned and applied after the groups before it have applied,
// because an area's plan can depend on what an earlier one changes (the
// keychain restores POSTGRES_PASSWORD, then init finds the DSN consistent).
//
// First remembering the
// answers (so a re-run offers the same), then each area's steps, or one
// step that says why the area is skipped. An area this version cannot do is
// "not available" whatever the answer (the question was not asked).
func PlanGroups(ctx context.Context, in Input, b Builders) ([]Group, error) {
	groups := []Group{{Area: "wizard.answers", Steps: []step.Step{&SaveAnswers{Dir: in.StateDir, Answers: in.Answers}}}}
	for _, ar := range Areas(in.Answers, b) {
		add := func(s ...step.Step) {
			groups = append(groups, Group{Area: ar.ID, Steps: s, DependsOn: dependsOn[ar.ID]})
		}
		switch {
		case ar.ID == "stack.preflight" && ar.Build == nil && b.Up != nil:
			// `up` runs its own preflight checks first; no separate area.
			continue
		case ar.Build == nil:
			add(Unavailable{Area: ar.ID, Title: ar.Title})
		case !ar.Wanted:
			add(Declined{Area: ar.ID, Title: ar.Title, Why: ar.Why})
		default:
			s, err := ar.Build(ctx, in)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", ar.Title, err)
			}
			if len(s) > 0 {
				add(s...)
			}
		}
	}
	return groups, nil
}

// Unavailable stands for an area this version of cdb-setup cannot do yet. It
// changes nothing and says so, rather than pretending.
type Unavailable struct {
	Area  string
	Title string
}

// NotAvailable is the wording shared by the wizard, the plan and doctor.
const NotAvailable = "not available in this version"

func (u Unavailable) ID() string { return u.Area }

func (u Unavailable) Plan(context.Context) (step.Change, error) {
	return step.Change{Step: u.Area, None: true, Summary: u.Title + ": " + NotAvailable}, nil
}

func (u Unavailable) Apply(context.Context) (step.Result, error) {
	return step.Result{Step: u.Area, Status: step.StatusSkipped, Detail: u.Title + ": " + NotAvailable,
		Fields: map[string]any{"available": false}}, nil
}

// Declined stands for an area the answers said no to.
type Declined struct {
	Area  string
	Title string
	Why   string
}

func (d Declined) ID() string { return d.Area }

func (d Declined) Plan(context.Context) (step.Change, error) {
	return step.Change{Step: d.Area, None: true, Summary: d.Title + ": skipped (" + d.Why + ")"}, nil
}

func (d Declined) Apply(context.Context) (step.Result, error) {
	return step.Result{Step: d.Area, Status: step.StatusSkipped, Detail: d.Title + ": skipped (" + d.Why + ")",
		Fields: map[string]any{"declined": true}}, nil
}

// IsPlaceholder reports whether s is an Unavailable or Declined step (the
// plan printer shows those apart from real changes).
func IsPlaceholder(s step.Step) bool {
	switch s.(type) {
	case Unavailable, Declined:
		return true
	}
	return false
}
