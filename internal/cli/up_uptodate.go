package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/docker/docker/client"

	"github.com/claire-de-binare/cdb-setup/internal/setup"
	"github.com/claire-de-binare/cdb-setup/internal/stack"
	"github.com/claire-de-binare/cdb-setup/internal/step"
)

// stackUpToDate reports whether `compose up` would change nothing: every
// service it would start is ready and was created from the configuration
// and image compose would use now (stack.UpToDate), and no container reads
// a secret file that changed after it was created (staleServices). Then a
// re-run skips compose: it would otherwise start finished one-shots (a
// migration) again, and take seconds to say "nothing changed". why names
// what is not up to date; an error means it cannot tell (compose runs).
func stackUpToDate(ctx context.Context, ls *loadedStack, compose *stack.Compose, api *client.Client) (ok bool, why string, err error) {
	if api == nil || compose == nil || compose.Argv == nil {
		return false, "Docker or Compose is not available", nil
	}
	out, err := compose.Run(ctx, ls.Inv, nil, "config", "--hash", "*")
	if err != nil {
		return false, "", err
	}
	hashes := stack.ParseConfigHashes(out)
	want := map[string]stack.Wanted{}
	for _, name := range ls.Model.Start {
		want[name] = stack.Wanted{ConfigHash: hashes[name], Image: ls.Model.Services[name].Image}
	}
	ok, why, err = stack.UpToDate(ctx, api, ls.Inv.Project, want)
	if !ok || err != nil {
		return false, why, err
	}
	if svcs, _ := staleServices(ctx, ls, api); len(svcs) > 0 {
		return false, "a secret file changed after " + strings.Join(svcs, ", ") + " started", nil
	}
	return true, "", nil
}

// alreadyUp is the up step's "done" when the stack was found up to date
// before compose ran (stackUpToDate).
func (u *upStartStep) alreadyUp() step.Result {
	u.result = step.StatusDone
	return step.Result{Step: u.ID(), Status: step.StatusDone, Fields: map[string]any{"services": len(u.ls.Targets), "compose_skipped": true},
		Detail: fmt.Sprintf("already running and healthy: %s (nothing changed; compose up would change nothing)", strings.Join(u.ls.Targets, ", "))}
}

// checkUpToDate decides once per run, at plan time, whether compose can be
// skipped: never with --build or a volume to recreate (those are changes).
func (u *upStartStep) checkUpToDate(ctx context.Context) bool {
	if u.checked {
		return u.upToDate
	}
	u.checked = true
	if u.opts.Build || len(u.opts.RecreateVolumes) > 0 {
		return false
	}
	ok, _, err := stackUpToDate(ctx, u.ls, u.compose, u.api)
	u.upToDate = ok && err == nil
	return u.upToDate
}

// wizardStackUpToDate is stackUpToDate for the wizard's up step: the stack
// the answers select, in this run's workspace (the folder just chosen), so
// the plan of a re-run on a finished machine lists no change.
func wizardStackUpToDate(f *Factory, in setup.Input, sf StackFlags) func(ctx context.Context) (bool, error) {
	return func(ctx context.Context) (bool, error) {
		g := *f.Global
		g.JSON, g.SecretsPath = false, in.Answers.SecretsPath
		fc := *f
		fc.Global, fc.Context, fc.ws = &g, ctx, in.Workspace
		ls, err := loadStack(&fc, &sf)
		if err != nil {
			return false, err
		}
		api, _, err := stack.Connect(ctx, fc.Env, ls.Facts.Home, ls.Facts.OS)
		if err != nil {
			return false, err
		}
		defer api.Close()
		c, err := stack.LocateCompose(ctx, fc.Env, nil)
		if err != nil {
			return false, err
		}
		ok, _, err := stackUpToDate(ctx, ls, &c, api)
		return ok, err
	}
}
