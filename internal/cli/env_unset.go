package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/claire-de-binare/cdb-setup/internal/platform"
	"github.com/claire-de-binare/cdb-setup/internal/step"
)

// EnvUnsetOptions are the inputs of `cdb-setup env unset`.
type EnvUnsetOptions struct {
	F   *Factory
	Run platform.Runner
}

// NewCmdEnvUnset builds `cdb-setup env unset`.
func NewCmdEnvUnset(f *Factory, runF func(*EnvUnsetOptions) error) *cobra.Command {
	opts := &EnvUnsetOptions{F: f}
	return &cobra.Command{
		Use:   "unset",
		Short: "Remove exactly what `env set` added (files byte-identical to before)",
		Long: `Remove every SECRETS_PATH setting cdb-setup recorded, and its block from the usual
rc files even when there is no record. Files get back exactly the bytes they had
before; files cdb-setup created are deleted. Lines you wrote yourself are never
touched (` + "`cdb-setup env status`" + ` points at them).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(opts)
			}
			return envUnsetRun(opts)
		},
	}
}

func envUnsetRun(opts *EnvUnsetOptions) error {
	f := opts.F
	table := envUndoers()
	var recs []platform.Record
	steps, st, release, err := undoPlan(f, "cdb-setup env unset", opts.Run, false, func(r platform.Record) bool {
		_, ok := table[r.Kind]
		return ok
	}, table, &recs)
	if err != nil {
		return err
	}
	defer release()
	_ = st
	if len(steps) == 0 {
		fmt.Fprintln(f.IO.ErrOut, "✓ cdb-setup has not set SECRETS_PATH anywhere; nothing to remove")
		return nil
	}
	if _, err := runSteps(f, steps, true); err != nil {
		return err
	}
	if !f.Global.DryRun {
		fmt.Fprintln(f.IO.ErrOut, "New shells no longer get SECRETS_PATH from cdb-setup; shells already open keep it until closed.")
	}
	return nil
}

// undoPlan loads the state and builds undo steps for the records keep
// selects, plus the rustup-style cleanup of unrecorded places.
func undoPlan(f *Factory, who string, run platform.Runner, purge bool, keep func(platform.Record) bool, table map[string]platform.Undoer, recs *[]platform.Record) ([]step.Step, *platform.State, func(), error) {
	noop := func() {}
	ws, err := f.Workspace()
	if err != nil {
		return nil, nil, noop, err
	}
	dir, err := f.StateDir()
	if err != nil {
		return nil, nil, noop, err
	}
	release := noop
	if !f.Global.DryRun {
		lock, err := f.Lock(who)
		if err != nil {
			return nil, nil, noop, err
		}
		release = func() { lock.Release() }
	}
	st, err := platform.LoadState(dir)
	if err != nil {
		release()
		return nil, nil, noop, err
	}
	for _, r := range st.Records {
		if keep(r) {
			*recs = append(*recs, r)
		}
	}
	uc := platform.UndoContext{Facts: ws.Facts, Env: f.Env, Run: run, Purge: purge, ComposeEnv: composeEnvFile(ws)}
	recorded := map[string]bool{}
	for _, r := range st.Records {
		recorded[r.Target] = true
	}
	steps := platform.UndoSteps(st, *recs, table, uc)
	steps = append(steps, platform.EnvCandidateSteps(uc, recorded)...)
	return steps, st, release, nil
}
