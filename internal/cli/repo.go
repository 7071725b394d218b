package cli

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/claire-de-binare/cdb-setup/internal/exitcode"
	"github.com/claire-de-binare/cdb-setup/internal/platform"
	"github.com/claire-de-binare/cdb-setup/internal/workspace"
)

// Workspace is where everything is for this run (repo, manifest, compose
// folder, secrets folder, project, state folder, facts), resolved once from
// the flags and the environment with one precedence order
// (internal/workspace, docs/workspace.md). Commands that need the clone
// call NeedRepo on it.
func (f *Factory) Workspace() (*workspace.Workspace, error) {
	if f.ws == nil {
		facts, err := f.Facts()
		if err != nil {
			return nil, err
		}
		ws, err := workspace.Resolve(f.ctx(), workspace.Options{
			Flags: workspace.Flags{Repo: f.Global.Repo, SecretsPath: f.Global.SecretsPath, Project: f.Global.ProjectName},
			Env:   f.Env, Facts: &facts,
		})
		if err != nil {
			return nil, err
		}
		f.ws = ws
	}
	return f.ws, nil
}

// repoWorkspace is the workspace of a command that needs the clone.
func (f *Factory) repoWorkspace() (*workspace.Workspace, error) {
	ws, err := f.Workspace()
	if err != nil {
		return nil, err
	}
	if err := ws.NeedRepo(); err != nil {
		return nil, err
	}
	return ws, nil
}

// Facts detects the machine (once per run).
func (f *Factory) Facts() (platform.Facts, error) {
	if f.facts == nil {
		facts, err := platform.Detect(f.Env)
		if err != nil {
			return facts, exitcode.New(exitcode.Environment, err)
		}
		f.facts = &facts
	}
	return *f.facts, nil
}

// catalogueCache is the secrets catalogue cache for ws, or "" (no cache)
// under --dry-run, which changes nothing, not even a cache.
func (f *Factory) catalogueCache(ws *workspace.Workspace) string {
	if f.Global.DryRun {
		return ""
	}
	return ws.CatalogueCache()
}

// StateDir is the workspace's folder of the state file and the run lock.
func (f *Factory) StateDir() (string, error) {
	ws, err := f.Workspace()
	if err != nil {
		return "", err
	}
	if ws.StateDirErr != nil {
		return "", exitcode.New(exitcode.Environment, ws.StateDirErr)
	}
	return ws.StateDir, nil
}

// Lock takes the run lock so two cdb-setup runs never change things at the
// same time; the second waits and says who holds it.
func (f *Factory) Lock(what string) (*platform.Lock, error) {
	dir, err := f.StateDir()
	if err != nil {
		return nil, err
	}
	return platform.AcquireLock(f.ctx(), filepath.Join(dir, "lock"), what, func(holder string) {
		fmt.Fprintf(f.IO.ErrOut, "Waiting for another cdb-setup run to finish (%s)…\n", holder)
	})
}

func (f *Factory) ctx() context.Context {
	if f.Context == nil {
		return context.Background()
	}
	return f.Context
}
