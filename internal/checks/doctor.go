package checks

import (
	"context"

	"github.com/claire-de-binare/cdb-setup/internal/platform"
	"github.com/claire-de-binare/cdb-setup/internal/secrets"
	"github.com/claire-de-binare/cdb-setup/internal/workspace"
)

// Env is what doctor's checks look at (Doctor lists them), detected once
// by the caller.
type Env struct {
	// Workspace is where everything is: facts, repo (RepoErr when none),
	// manifest, the secrets folder doctor checks and where that choice came
	// from, the project, the state folder.
	*workspace.Workspace
	Env platform.Environment
	// Keychain is the OS keychain (nil: the real one, bounded by a timeout).
	Keychain *secrets.Keychain
	// Stack are the stack's own checks (Docker, Compose, .env, ports,
	// images): up's preflight (Preflight.Checks), built by the caller;
	// shown after the repository line.
	Stack []Check
}

func check(id, title string, run func(ctx context.Context) Result) Check {
	return Check{ID: id, Title: title, Run: run}
}
