package cli

import (
	"context"
	"runtime"
	"strings"
	"time"

	"github.com/claire-de-binare/cdb-setup/internal/secrets"

	"github.com/claire-de-binare/cdb-setup/internal/hook"
	"github.com/claire-de-binare/cdb-setup/internal/platform"
	"github.com/claire-de-binare/cdb-setup/internal/setup"
	"github.com/claire-de-binare/cdb-setup/internal/step"
	"github.com/claire-de-binare/cdb-setup/internal/wizard"
)

// setupBuilders wires each area of the wizard's plan to the package that
// does it. An area left nil is shown as "not available in this version":
// when a package lands, its builder goes here (one line each).

func setupBuilders(f *Factory) setup.Builders {
	return setup.Builders{
		KeychainRestore: keychainRestoreBuilder,
		Secrets:         secretsBuilder,
		KeychainPush:    keychainPushBuilder,
		Persist:         persistBuilder(f),
		Hook:            hookBuilder,
		// up runs its own preflight (Docker, Compose, secrets, ports,
		// images), so there is no separate Preflight area.
		Up: upBuilder(f),
	}
}

// persistOptions maps the answers onto `cdb-setup env set`'s options.
func persistOptions(in setup.Input) platform.PersistOptions {
	a := in.Answers
	return platform.PersistOptions{
		Value: a.SecretsPath, Facts: in.Facts, Env: in.Env, State: in.State, StateDir: in.StateDir,
		Shells: a.Wants(wizard.PersistShells), GUI: a.Wants(wizard.PersistGUI), WSLENV: a.Wants(wizard.PersistWSL),
	}
}

// persistBuilder: the same steps as `cdb-setup env set`. The compose .env
// is written only when git ignores it (composeEnvTarget refuses otherwise).
func persistBuilder(f *Factory) setup.Builder {
	return func(_ context.Context, in setup.Input) ([]step.Step, error) {
		po := persistOptions(in)
		if in.Answers.Wants(wizard.PersistComposeEnv) {
			p, err := composeEnvTarget(f)
			if err != nil {
				return nil, err
			}
			po.ComposeEnv = p
		}
		return platform.PersistEnvSteps(po)
	}
}

// hookBuilder: the same steps as `cdb-setup hook install`. When gitleaks is
// missing and Go is there, the plan offers `go install` (listed before the
// user confirms) instead of stopping the whole setup.
func hookBuilder(ctx context.Context, in setup.Input) ([]step.Step, error) {
	_, goErr := platform.LookPathIn(in.Env, "go")
	return hook.InstallSteps(ctx, hook.Options{
		Repo: in.Repo, Env: in.Env, GOOS: runtime.GOOS, State: in.State,
		SecretsPath: in.Answers.SecretsPath, InstallGitleaks: goErr == nil, Self: selfPath(),
	})
}

// keychainTimeout bounds each keychain call of the wizard: a locked
// collection with no prompter can otherwise hang forever.
const keychainTimeout = 10 * time.Second

// keychainMirrorFor is the mirror of the chosen secrets folder.
func keychainMirrorFor(ctx context.Context, in setup.Input) (*secrets.KeychainMirror, error) {
	cat, err := secrets.Discover(ctx, secrets.DiscoverOptions{Repo: in.Repo, Manifest: in.Manifest, Dir: in.Answers.SecretsPath, Env: in.Env})
	if err != nil {
		return nil, err
	}
	m := secrets.NewKeychainMirror(&secrets.Keychain{Timeout: keychainTimeout}, in.Project, cat)
	m.StateDir = in.StateDir
	return m, nil
}

// keychainRestoreBuilder: the reinstall path. When the folder lacks files
// the keychain has copies of, restore them (never overwrite) before init
// would generate new passwords the existing volumes refuse.
func keychainRestoreBuilder(ctx context.Context, in setup.Input) ([]step.Step, error) {
	m, err := keychainMirrorFor(ctx, in)
	if err != nil {
		return nil, err
	}
	names, err := m.Restorable(ctx)
	if err != nil || len(names) == 0 {
		// Nothing to restore (or no mirror): one quiet line, not one per secret.
		return []step.Step{setup.Declined{Area: "keychain.restore", Title: "restore missing secret files from the OS keychain", Why: "nothing to restore"}}, nil
	}
	return secrets.KeychainPullSteps(m, false), nil
}

// keychainPushBuilder: the same steps as `cdb-setup keychain push`.
func keychainPushBuilder(ctx context.Context, in setup.Input) ([]step.Step, error) {
	m, err := keychainMirrorFor(ctx, in)
	if err != nil {
		return nil, err
	}
	return secrets.KeychainPushSteps(m), nil
}

// keychainAnswers asks the OS keychain once (one read, bounded): the mirror
// question is only offered when a keychain answers. It reads the mirror of
// the workspace's folder and project (the folder the question offers).
func keychainAnswers(f *Factory) func(ctx context.Context) bool {
	return func(ctx context.Context) bool {
		ws, err := f.repoWorkspace()
		if err != nil {
			return false
		}
		dir, project := ws.SecretsDir, ws.Project
		mirror := &secrets.KeychainMirror{Keychain: &secrets.Keychain{Timeout: keychainTimeout}, Service: secrets.KeychainService(project, dir), Project: project, Dir: dir}
		_, err = mirror.Status(ctx)
		return err == nil
	}
}

// secretsBuilder: the same steps as `cdb-setup secrets init` — every secret
// any profile and overlay can mount (so a later `up --overlay logging` finds its
// files), existing non-empty ones kept. The external values typed in the
// wizard go to the steps as bytes, never through argv or the environment.
func secretsBuilder(ctx context.Context, in setup.Input) ([]step.Step, error) {
	cat, err := secrets.Discover(ctx, secrets.DiscoverOptions{Repo: in.Repo, Manifest: in.Manifest, Dir: in.Answers.SecretsPath, Env: in.Env})
	if err != nil {
		return nil, err
	}
	mode, _ := secrets.DefaultFileMode(in.Facts)
	ext := map[string][]byte{}
	for name, v := range in.Answers.External {
		if v != "" {
			ext[name] = []byte(v)
		}
	}
	steps, err := secrets.InitSteps(secrets.InitOptions{
		Options: secrets.Options{
			Catalogue: cat, Mode: mode, TLS: wizardWants(in.Answers.Overlays, "tls"),
			Env: secrets.ComposeEnv(in.Env, cat.Names(), cat.Dir), Repo: in.Repo,
			Project: in.Project, StateDir: in.StateDir,
		},
		External: ext,
	})
	if err != nil {
		return nil, err
	}
	// Never generate a password a volume would refuse (issue 12).
	guard := &volumeGuard{env: in.Env, home: in.Facts.Home, goos: in.Facts.OS, cat: cat, project: in.Project}
	return append([]step.Step{guard}, steps...), nil
}

func wizardWants(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// upBuilder: `cdb-setup up` with the chosen profile and overlays, as one
// step (it prints its own preflight and live service table while it runs).
// It is "done", not "changed", when up found every service already running
// and healthy and changed nothing (up's stack.up step says so).
func upBuilder(f *Factory) setup.Builder {
	return func(_ context.Context, in setup.Input) ([]step.Step, error) {
		ov := in.Answers.Overlays
		sf := StackFlags{Profile: in.Answers.Profile, Overlays: append([]string(nil), ov...)}
		profile := in.Answers.Profile
		if len(ov) > 0 {
			profile += " + " + strings.Join(ov, ", ")
		}
		return append(wizardTLSSteps(f, in, sf), &setup.CommandStep{
			StepID:      "stack.up",
			Summary:     "start the stack (" + profile + ") and wait until every service is healthy",
			Targets:     in.Manifest.Targets,
			Done:        "the stack is up and every service is healthy",
			AlreadyDone: "the stack was already running and healthy: nothing changed",
			Fix:         "cdb-setup up" + upFlags(sf),
			Talks:       true, // preflight and the live table
			Run: func(ctx context.Context) (bool, error) {
				// up's own --json report must not mix with the wizard's, and
				// it must use this run's workspace (the folder just chosen).
				g := *f.Global
				g.JSON, g.SecretsPath = false, in.Answers.SecretsPath
				fc := *f
				fc.Global, fc.Context, fc.ws = &g, ctx, in.Workspace
				uo := &UpOptions{F: &fc, Stack: sf, inWizard: true}
				err := upRun(uo)
				return uo.result == step.StatusDone, err
			},
		}), nil
	}
}

func upFlags(sf StackFlags) string {
	s := ""
	for _, a := range sf.args() {
		s += " " + a
	}
	return s
}
