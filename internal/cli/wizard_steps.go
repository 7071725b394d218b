package cli

import (
	"context"
	"runtime"

	"github.com/claire-de-binare/cdb-setup/internal/hook"
	"github.com/claire-de-binare/cdb-setup/internal/setup"
	"github.com/claire-de-binare/cdb-setup/internal/step"
)

// setupBuilders wires each area of the wizard's plan to the package that
// does it. An area left nil is shown as "not available in this version":
// when a package lands, its builder goes here (one line each).
func setupBuilders(f *Factory) setup.Builders {
	return setup.Builders{
		Hook: hookBuilder,
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
