package hook

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/claire-de-binare/cdb-setup/internal/platform"
	"github.com/claire-de-binare/cdb-setup/internal/step"
)

// preCommitConfigStep adds the local gitleaks hook to .pre-commit-config.yaml.
type preCommitConfigStep struct {
	opts Options
	loc  Location
}

func (s *preCommitConfigStep) ID() string { return "hook.pre-commit-config" }

func (s *preCommitConfigStep) path() string {
	return filepath.Join(s.loc.TopLevel, PreCommitConfigName)
}

// prepare reads the config and computes the edit; out is nil when our hook
// is already there.
func (s *preCommitConfigStep) prepare() (content, out []byte, inserted string, info PreCommitInfo, err error) {
	content, err = os.ReadFile(s.path())
	if err != nil {
		return nil, nil, "", info, fmt.Errorf("read %s: %w", s.path(), err)
	}
	info, err = InspectPreCommitConfig(content)
	if err != nil {
		return nil, nil, "", info, step.WithFix(fmt.Errorf("%w (nothing was changed)", err), "fix the file (`pre-commit validate-config`), then run `cdb-setup hook install` again")
	}
	if info.HasOurHook {
		return content, nil, "", info, nil
	}
	cfg := RepoGitleaksConfig(s.loc.TopLevel)
	out, inserted, err = AddPreCommitHook(content, cfg)
	if err != nil {
		return nil, nil, "", info, step.WithFix(fmt.Errorf("%w (nothing was changed)", err),
			"add this item under `repos:` in "+s.path()+" by hand:\n"+renderPreCommitBlock(2, "\n", cfg))
	}
	return content, out, inserted, info, nil
}

func (s *preCommitConfigStep) Plan(ctx context.Context) (step.Change, error) {
	_, out, _, _, err := s.prepare()
	if err != nil {
		return step.Change{}, err
	}
	if out == nil {
		return step.Change{None: true, Summary: "the " + PreCommitHookID + " hook is already in " + s.path(), Targets: []string{s.path()}}, nil
	}
	return step.Change{Summary: "add a local gitleaks hook (`" + PreCommitEntry(RepoGitleaksConfig(s.loc.TopLevel)) + "`) to " + s.path(), Targets: []string{s.path()}}, nil
}

func (s *preCommitConfigStep) Apply(ctx context.Context) (step.Result, error) {
	_, out, inserted, info, err := s.prepare()
	if err != nil {
		return step.Failed(s.ID(), err, step.FixOf(err)), nil
	}
	res := step.Result{Step: s.ID(), Status: step.StatusDone, Fields: map[string]any{"config": s.path()}}
	if out == nil {
		res.Detail = "the " + PreCommitHookID + " hook is already in " + PreCommitConfigName
		if VerboseEntry(info.OurEntry) {
			// The text is the user's now (committed, maybe edited): only
			// uninstall, which takes out exactly what was added, changes it.
			res.Detail += " — warning: its entry runs gitleaks with --verbose, which can print a secret's value; run `cdb-setup hook uninstall`, then `cdb-setup hook install`"
		}
	} else {
		mode := os.FileMode(0o644)
		if st, err := os.Stat(s.path()); err == nil {
			mode = st.Mode().Perm()
		}
		if err := platform.WriteFileAtomic(s.path(), out, mode); err != nil {
			return step.Failed(s.ID(), fmt.Errorf("%w (nothing was changed)", err), "make "+s.path()+" writable, then run `cdb-setup hook install` again"), nil
		}
		res.Status = step.StatusChanged
		res.Detail = "added the " + PreCommitHookID + " hook to " + PreCommitConfigName + " (commit this change so every clone gets it)"
		rec := platform.Record{Step: s.ID(), Target: s.path(), Data: map[string]string{"mode": modePreCommitConfig, "repo": s.loc.TopLevel, "inserted": inserted}}
		if err := s.opts.record(rec); err != nil {
			return step.Failed(s.ID(), err, "check that the state folder is writable"), nil
		}
	}
	if len(info.UnconfiguredGitleaks) > 0 && RepoGitleaksConfig(s.loc.TopLevel) == "gitleaks.toml" {
		res.Detail += fmt.Sprintf(" — note: the existing hook %q runs gitleaks without --config, so it ignores gitleaks.toml; add `args: [--config, gitleaks.toml]` to it or remove it", strings.Join(info.UnconfiguredGitleaks, ", "))
	}
	return res, nil
}

// preCommitInstallStep makes sure `pre-commit install` has been run.
type preCommitInstallStep struct {
	opts Options
	loc  Location
}

func (s *preCommitInstallStep) ID() string { return "hook.pre-commit-install" }

func (s *preCommitInstallStep) check() (installed bool, h hookFile, err error) {
	h, err = readHook(s.loc.HookPath)
	if err != nil {
		return false, h, err
	}
	switch {
	case h.symlink != "":
		return false, h, fmt.Errorf("%s is a symlink to %s: cdb-setup will not let pre-commit write through it; replace the link with a copy of its script, then run `cdb-setup hook install` again (nothing was changed)", s.loc.HookPath, h.symlink)
	case h.ours:
		return false, h, step.WithFix(fmt.Errorf("%s is cdb-setup's own hook, but this repository uses the pre-commit framework (nothing was changed)", s.loc.HookPath),
			"run `cdb-setup hook uninstall`, then `cdb-setup hook install` again")
	}
	return strings.Contains(string(h.content), preCommitGenerated), h, nil
}

func (s *preCommitInstallStep) Plan(ctx context.Context) (step.Change, error) {
	installed, _, err := s.check()
	if err != nil {
		return step.Change{}, err
	}
	if installed {
		return step.Change{None: true, Summary: "pre-commit is installed as the git hook (" + s.loc.HookPath + ")"}, nil
	}
	if _, err := lookPath(s.opts.Env, "pre-commit"); err != nil {
		return step.Change{}, step.WithFix(errors.New("this repository uses the pre-commit framework, but the pre-commit program is not on PATH (nothing was changed)"),
			"install it (pipx install pre-commit, brew install pre-commit, or apt install pre-commit), then run `cdb-setup hook install` again")
	}
	return step.Change{Summary: "run `pre-commit install` (an existing hook is kept by pre-commit as pre-commit.legacy and still runs)", Targets: []string{s.loc.HookPath}}, nil
}

func (s *preCommitInstallStep) Apply(ctx context.Context) (step.Result, error) {
	installed, h, err := s.check()
	if err != nil {
		return step.Failed(s.ID(), err, step.FixOf(err)), nil
	}
	if installed {
		return step.Result{Step: s.ID(), Status: step.StatusDone, Detail: "pre-commit is installed as the git hook (" + s.loc.HookPath + ")"}, nil
	}
	if _, err := run(ctx, s.opts.Env, s.loc.TopLevel, preCommitTimeout, "pre-commit", "install"); err != nil {
		fix := "run `pre-commit install` in " + s.loc.TopLevel + " and read its message"
		if strings.Contains(err.Error(), "hooksPath") {
			fix = "pre-commit refuses to install while core.hooksPath is set: `git config --unset core.hooksPath`, then run `cdb-setup hook install` again"
		}
		return step.Failed(s.ID(), fmt.Errorf("pre-commit install: %w", err), fix), nil
	}
	rec := platform.Record{Step: s.ID(), Target: s.loc.HookPath, Data: map[string]string{"mode": modePreCommitInstall, "repo": s.loc.TopLevel}}
	detail := "ran `pre-commit install`: " + s.loc.HookPath + " now runs the hooks of " + PreCommitConfigName
	if h.exists {
		rec.Data["legacy"] = s.loc.HookPath + ".legacy"
		detail += "; the hook that was there runs first (pre-commit.legacy)"
	}
	if err := s.opts.record(rec); err != nil {
		return step.Failed(s.ID(), err, "check that the state folder is writable"), nil
	}
	return step.Result{Step: s.ID(), Status: step.StatusChanged, Detail: detail, Fields: map[string]any{"hook": s.loc.HookPath}}, nil
}
