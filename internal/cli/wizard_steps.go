package cli

import (
	"context"
	"runtime"

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
		Persist: persistBuilder(f),
		Hook:    hookBuilder,
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
	_, goErr := lookPathEnv(in.Env, "go")
	return hook.InstallSteps(ctx, hook.Options{
		Repo: in.Repo, Env: in.Env, GOOS: runtime.GOOS, State: in.State,
		SecretsPath: in.Answers.SecretsPath, InstallGitleaks: goErr == nil,
	})
}
