package hook

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/claire-de-binare/cdb-setup/internal/platform"
	"github.com/claire-de-binare/cdb-setup/internal/step"
)

// Undo reverses one change recorded with Kind "hook". It is safe to run
// again: a change already undone is not an error. It refuses (and changes
// nothing) when the file was changed by someone else since, naming what to
// do by hand. `cdb-setup uninstall` calls it for every "hook" record.
func Undo(ctx context.Context, rec platform.Record) error {
	if rec.Kind != Kind {
		return fmt.Errorf("hook.Undo: record of kind %q", rec.Kind)
	}
	switch rec.Data["mode"] {
	case modeNative:
		return undoNative(rec.Target, rec.Target+ChainedSuffix)
	case modePreCommitConfig:
		return undoPreCommitConfig(rec.Target, rec.Data["inserted"])
	case modePreCommitInstall:
		return undoPreCommitInstall(rec.Target)
	}
	return fmt.Errorf("hook.Undo: unknown mode %q for %s", rec.Data["mode"], rec.Target)
}

func undoNative(p, chained string) error {
	h, err := readHook(p)
	if err != nil {
		return err
	}
	_, cerr := os.Lstat(chained)
	hasChained := cerr == nil
	switch {
	case h.exists && !h.ours:
		if hasChained {
			return step.WithFix(fmt.Errorf("%s was replaced since cdb-setup installed its hook; the hook that was there before is still kept as %s", p, chained),
				"compare the two and move "+chained+" back by hand if you want it")
		}
		return nil // our hook is already gone
	case hasChained:
		// rename keeps the original bytes and mode, and replaces ours atomically.
		if err := os.Rename(chained, p); err != nil {
			return fmt.Errorf("restore %s: %w", p, err)
		}
	case h.exists:
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("remove %s: %w", p, err)
		}
	}
	return platform.SyncDir(filepath.Dir(p))
}

func undoPreCommitConfig(p, inserted string) error {
	content, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if info, err := InspectPreCommitConfig(content); err == nil && !info.HasOurHook {
		return nil
	}
	out, err := RemovePreCommitHook(content, inserted)
	if err != nil {
		return step.WithFix(fmt.Errorf("%s: %w", p, err), "delete the "+PreCommitHookID+" item from repos: in "+p)
	}
	st, err := os.Stat(p)
	if err != nil {
		return err
	}
	return platform.WriteFileAtomic(p, out, st.Mode().Perm())
}

// undoPreCommitInstall does what `pre-commit uninstall` does, without
// needing pre-commit: remove its hook and put pre-commit.legacy back.
func undoPreCommitInstall(p string) error {
	h, err := readHook(p)
	if err != nil {
		return err
	}
	if !h.exists || !strings.Contains(string(h.content), preCommitGenerated) {
		return nil
	}
	legacy := p + ".legacy"
	if _, err := os.Lstat(legacy); err == nil {
		if err := os.Rename(legacy, p); err != nil {
			return fmt.Errorf("restore %s: %w", p, err)
		}
	} else if err := os.Remove(p); err != nil {
		return fmt.Errorf("remove %s: %w", p, err)
	}
	return platform.SyncDir(filepath.Dir(p))
}

// UninstallSteps undo every "hook" record of this clone, newest first. A
// cdb-setup hook found without a record (state file lost) is removed too.
func UninstallSteps(ctx context.Context, opts Options) ([]step.Step, error) {
	loc, err := Locate(ctx, opts.Env, opts.Repo, "hook uninstall")
	if err != nil {
		return nil, err
	}
	var recs []platform.Record
	if opts.State != nil {
		for _, r := range opts.State.Find(Kind) {
			if r.Data["repo"] == loc.TopLevel || r.Target == loc.HookPath {
				recs = append(recs, r)
			}
		}
	}
	nativeRecorded := false
	for _, r := range recs {
		nativeRecorded = nativeRecorded || (r.Data["mode"] == modeNative && r.Target == loc.HookPath)
	}
	if h, err := readHook(loc.HookPath); err == nil && h.ours && !nativeRecorded {
		recs = append(recs, platform.Record{Step: "hook.native", Kind: Kind, Target: loc.HookPath, Data: map[string]string{"mode": modeNative, "repo": loc.TopLevel}})
	}
	var steps []step.Step
	for i := len(recs) - 1; i >= 0; i-- {
		steps = append(steps, &undoStep{opts: opts, rec: recs[i]})
	}
	if len(steps) == 0 {
		steps = append(steps, nothingStep{loc: loc})
	}
	return steps, nil
}

type undoStep struct {
	opts Options
	rec  platform.Record
}

func (s *undoStep) ID() string { return "undo." + s.rec.Step }

func (s *undoStep) describe() string {
	switch s.rec.Data["mode"] {
	case modeNative:
		if _, err := os.Lstat(s.rec.Target + ChainedSuffix); err == nil {
			return "remove the gitleaks hook and restore the original " + s.rec.Target
		}
		return "remove the gitleaks hook " + s.rec.Target
	case modePreCommitConfig:
		return "remove the " + PreCommitHookID + " hook from " + s.rec.Target
	case modePreCommitInstall:
		return "undo `pre-commit install` (" + s.rec.Target + ")"
	}
	return "undo " + s.rec.Step + " " + s.rec.Target
}

func (s *undoStep) Plan(ctx context.Context) (step.Change, error) {
	return step.Change{Summary: s.describe(), Targets: []string{s.rec.Target}}, nil
}

func (s *undoStep) Apply(ctx context.Context) (step.Result, error) {
	what := s.describe()
	if err := Undo(ctx, s.rec); err != nil {
		return step.Failed(s.ID(), err, step.FixOf(err)), nil
	}
	if s.opts.State != nil {
		s.opts.State.Delete(s.rec.Step, s.rec.Kind, s.rec.Target)
		if err := s.opts.State.Save(); err != nil {
			return step.Failed(s.ID(), fmt.Errorf("undone, but the state file was not updated: %w", err), ""), nil
		}
	}
	return step.Result{Step: s.ID(), Status: step.StatusChanged, Detail: strings.ToUpper(what[:1]) + what[1:] + ": done"}, nil
}

type nothingStep struct{ loc Location }

func (nothingStep) ID() string { return "hook.uninstall" }
func (s nothingStep) Plan(ctx context.Context) (step.Change, error) {
	return step.Change{None: true, Summary: "no cdb-setup hook is installed in " + s.loc.HooksDir}, nil
}
func (s nothingStep) Apply(ctx context.Context) (step.Result, error) {
	return step.Result{Step: s.ID(), Status: step.StatusDone, Detail: "no cdb-setup hook is installed in " + s.loc.HooksDir}, nil
}
