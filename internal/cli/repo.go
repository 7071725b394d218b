package cli

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/claire-de-binare/cdb-setup/internal/exitcode"
	"github.com/claire-de-binare/cdb-setup/internal/platform"
)

// RepoDir is the CDB clone to work on: --repo, or the git top-level of the
// working directory.
func (f *Factory) RepoDir() (string, error) {
	if f.Global.Repo != "" {
		abs, err := filepath.Abs(f.Global.Repo)
		if err != nil {
			return "", exitcode.Usagef("--repo %s: %v", f.Global.Repo, err)
		}
		st, err := os.Stat(abs)
		if err != nil || !st.IsDir() {
			return "", exitcode.Environmentf("--repo %s is not a folder: pass the path of your CDB clone", f.Global.Repo)
		}
		return abs, nil
	}
	ctx, cancel := context.WithTimeout(f.ctx(), 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "git", "rev-parse", "--show-toplevel").Output()
	if err != nil {
		if _, lerr := exec.LookPath("git"); lerr != nil {
			return "", exitcode.Environmentf("git is not installed: install git, or pass --repo DIR (the folder of your CDB clone)")
		}
		return "", exitcode.Environmentf("not inside a git repository: run cdb-setup in your CDB clone, or pass --repo DIR")
	}
	return filepath.FromSlash(strings.TrimSpace(string(out))), nil
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

// StateDir is the folder of the state file and the run lock.
func (f *Factory) StateDir() (string, error) {
	facts, err := f.Facts()
	if err != nil {
		return "", err
	}
	d, err := platform.StateDir(f.Env, facts.OS)
	if err != nil {
		return "", exitcode.New(exitcode.Environment, err)
	}
	return d, nil
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
