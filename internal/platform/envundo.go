package platform

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/claire-de-binare/cdb-setup/internal/step"
)

// UndoContext is what undo functions may use: the same injectable view of
// the OS as the steps that made the changes.
type UndoContext struct {
	Facts   Facts
	Env     Environment
	Run     Runner
	UserEnv UserEnvStore
	// Purge asks kinds that keep data by default (the secrets folder) to
	// remove it too.
	Purge bool
	// ComposeEnv is the compose project's .env, when a repository is known,
	// so its block is cleaned even without a record.
	ComposeEnv string
}

func (uc *UndoContext) defaults() {
	if uc.Run == nil {
		uc.Run = ExecRunner
	}
	if uc.UserEnv == nil {
		uc.UserEnv = DefaultUserEnv()
	}
}

// Undoer reverses one recorded change. It returns done when there was
// nothing left to undo, changed when it undid something, failed otherwise.
type Undoer func(ctx context.Context, uc UndoContext, r Record) step.Result

// EnvUndoers maps the environment steps' record kinds to their undo.
func EnvUndoers() map[string]Undoer {
	return map[string]Undoer{
		KindRCBlock:      UndoBlockFile,
		KindComposeEnv:   UndoBlockFile,
		KindFishConf:     UndoOwnedFile,
		KindEnvironmentD: UndoOwnedFile,
		KindLaunchAgent:  UndoLaunchAgent,
		KindRegistry:     UndoRegistryValue,
		KindWSLENV:       UndoWSLENV,
	}
}

func failed(r Record, err error) step.Result {
	return step.Failed(r.Step, err, step.FixOf(err))
}

// UndoBlockFile removes our block from a file, leaving the user's bytes as
// they were before cdb-setup touched it; a file cdb-setup created and that
// holds nothing else is deleted.
func UndoBlockFile(ctx context.Context, uc UndoContext, r Record) step.Result {
	res := step.Result{Step: r.Step, Fields: map[string]any{"file": r.Target, "kind": r.Kind}}
	uf, err := readUserFile(r.Target)
	if err != nil {
		return failed(r, err)
	}
	if !uf.exists {
		res.Status, res.Detail = step.StatusDone, r.Target+" no longer exists; nothing to remove"
		return res
	}
	out, err := Remove(uf.content, Block{Begin: BlockBegin, End: BlockEnd})
	if err != nil {
		return failed(r, step.WithFix(fmt.Errorf("%s: %w", r.Target, err),
			fmt.Sprintf("remove the lines from %q to %q in %s by hand", BlockBegin, BlockEnd, r.Target)))
	}
	if len(out) == len(uf.content) {
		res.Status, res.Detail = step.StatusDone, "no cdb-setup block in "+r.Target
		return res
	}
	if len(out) == 0 && r.Data["created"] == "true" {
		if err := os.Remove(uf.resolved); err != nil {
			return failed(r, fmt.Errorf("remove %s: %w", r.Target, err))
		}
		removeCreatedDirs(r)
		res.Status, res.Detail = step.StatusChanged, "removed "+r.Target+" (cdb-setup had created it)"
		return res
	}
	if _, err := uf.write(out, 0o644); err != nil {
		return failed(r, err)
	}
	res.Status, res.Detail = step.StatusChanged, "removed the cdb-setup block from "+r.Target
	return res
}

// UndoOwnedFile deletes a file cdb-setup wrote entirely, if it still
// carries our header (a user who rewrote it made it theirs).
func UndoOwnedFile(ctx context.Context, uc UndoContext, r Record) step.Result {
	res := step.Result{Step: r.Step, Fields: map[string]any{"file": r.Target, "kind": r.Kind}}
	b, err := os.ReadFile(r.Target)
	if errors.Is(err, fs.ErrNotExist) {
		res.Status, res.Detail = step.StatusDone, r.Target+" no longer exists"
		return res
	}
	if err != nil {
		return failed(r, fmt.Errorf("read %s: %w", r.Target, err))
	}
	if !isOwned(b) {
		return failed(r, step.WithFix(fmt.Errorf("%s no longer carries cdb-setup's header; not deleting it", r.Target),
			"delete "+r.Target+" yourself if you no longer need it"))
	}
	if err := os.Remove(r.Target); err != nil {
		return failed(r, fmt.Errorf("remove %s: %w", r.Target, err))
	}
	removeCreatedDirs(r)
	res.Status, res.Detail = step.StatusChanged, "removed "+r.Target
	return res
}

// UndoLaunchAgent deletes the plist and unsets the variable in the running
// login session.
func UndoLaunchAgent(ctx context.Context, uc UndoContext, r Record) step.Result {
	uc.defaults()
	res := UndoOwnedFile(ctx, uc, r)
	if res.Status == step.StatusFailed {
		return res
	}
	if out, err := uc.Run(ctx, "launchctl", "unsetenv", EnvVar); err != nil {
		res.Detail += fmt.Sprintf("; launchctl unsetenv failed (%v: %s): it ends with this login session", err, out)
	} else {
		res.Detail += "; launchctl unsetenv " + EnvVar
	}
	return res
}

// UndoRegistryValue puts back the value SECRETS_PATH had before cdb-setup
// set it, or deletes it, then broadcasts the change.
func UndoRegistryValue(ctx context.Context, uc UndoContext, r Record) step.Result {
	uc.defaults()
	if uc.UserEnv == nil {
		return failed(r, ErrNoUserEnv)
	}
	res := step.Result{Step: r.Step, Fields: map[string]any{"registry": r.Target}}
	var err error
	if prev, ok := r.Data["previous"]; ok {
		err = uc.UserEnv.Set(EnvVar, prev, r.Data["previous_type"] == "REG_EXPAND_SZ")
		res.Detail = "restored the earlier value of " + r.Target
	} else {
		err = uc.UserEnv.Delete(EnvVar)
		res.Detail = "deleted " + r.Target
	}
	if err != nil {
		return failed(r, registryErr("write", r.Target, err))
	}
	_ = uc.UserEnv.Broadcast()
	res.Status = step.StatusChanged
	return res
}

// UndoWSLENV removes our entry from WSLENV, restoring an entry we replaced
// and leaving every other entry as it is now.
func UndoWSLENV(ctx context.Context, uc UndoContext, r Record) step.Result {
	uc.defaults()
	if uc.UserEnv == nil {
		return failed(r, ErrNoUserEnv)
	}
	res := step.Result{Step: r.Step, Fields: map[string]any{"registry": r.Target}}
	cur, exp, ok, err := uc.UserEnv.Get("WSLENV")
	if err != nil {
		return failed(r, registryErr("read", r.Target, err))
	}
	if !ok {
		res.Status, res.Detail = step.StatusDone, r.Target+" no longer exists"
		return res
	}
	next := RemoveWSLENV(cur, EnvVar, r.Data["replaced"])
	switch {
	case next == cur:
		res.Status, res.Detail = step.StatusDone, r.Target+" has no cdb-setup entry"
		return res
	case next == "" && r.Data["created"] == "true":
		err = uc.UserEnv.Delete("WSLENV")
	default:
		err = uc.UserEnv.Set("WSLENV", next, exp)
	}
	if err != nil {
		return failed(r, registryErr("write", r.Target, err))
	}
	_ = uc.UserEnv.Broadcast()
	res.Status, res.Detail = step.StatusChanged, "removed "+WSLENVEntry+" from "+r.Target
	return res
}

// undoStep runs one record's undo and forgets the record once undone.
type undoStep struct {
	st   *State
	r    Record
	undo Undoer // nil: a kind this build does not know
	uc   UndoContext
}

func (s *undoStep) ID() string { return "undo." + s.r.Kind + ":" + s.r.Target }

func (s *undoStep) Plan(ctx context.Context) (step.Change, error) {
	c := step.Change{Step: s.ID(), Targets: []string{s.r.Target}}
	if s.undo == nil {
		c.Summary = fmt.Sprintf("cannot undo %q records (%s, by %s): this cdb-setup does not know the kind", s.r.Kind, s.r.Target, s.r.Step)
		return c, nil
	}
	c.Summary = fmt.Sprintf("undo %s: %s", s.r.Kind, s.r.Target)
	return c, nil
}

func (s *undoStep) Apply(ctx context.Context) (step.Result, error) {
	if s.undo == nil {
		err := fmt.Errorf("cannot undo %q (%s, recorded by %s): this cdb-setup does not know that kind; the record is kept", s.r.Kind, s.r.Target, s.r.Step)
		return step.Failed(s.ID(), err, "undo it by hand, or run uninstall with the cdb-setup version that made the change"), err
	}
	res := s.undo(ctx, s.uc, s.r)
	res.Step = s.ID()
	if res.Status == step.StatusFailed {
		return res, res.Err
	}
	if s.st != nil && res.Status != step.StatusSkipped {
		if err := forget(s.st, s.r); err != nil {
			return step.Failed(s.ID(), err, ""), err
		}
	}
	return res, nil
}

// UndoSteps turns records into steps using table (kind → undo). Records of
// kinds missing from the table become steps that fail and say so: they are
// reported, never silently dropped. The newest change is undone first.
func UndoSteps(st *State, recs []Record, table map[string]Undoer, uc UndoContext) []step.Step {
	uc.defaults()
	var out []step.Step
	for i := len(recs) - 1; i >= 0; i-- {
		out = append(out, &undoStep{st: st, r: recs[i], undo: table[recs[i].Kind], uc: uc})
	}
	return out
}

// EnvCandidateSteps cleans, rustup style, every place cdb-setup may have
// written SECRETS_PATH but has no record of (a lost or older state file):
// our block in the usual rc files, our owned files. Only places that hold
// something of ours become steps.
func EnvCandidateSteps(uc UndoContext, recorded map[string]bool) []step.Step {
	uc.defaults()
	f, env := uc.Facts, uc.Env
	var out []step.Step
	add := func(kind, path string, undo Undoer) {
		if recorded[path] {
			return
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return
		}
		switch kind {
		case KindRCBlock, KindComposeEnv:
			if has, err := HasBlock(b, Block{Begin: BlockBegin, End: BlockEnd}); !has && err == nil {
				return
			}
		default:
			if !isOwned(b) {
				return
			}
		}
		out = append(out, &undoStep{r: Record{Step: "env.unrecorded", Kind: kind, Target: path}, undo: undo, uc: uc})
	}
	if f.OS != "windows" && f.Home != "" {
		rc := []string{".profile", ".bash_profile", ".bash_login", ".bashrc", ".zshenv", ".zprofile", ".zshrc", ".zlogin"}
		seen := map[string]bool{}
		for _, n := range rc {
			seen[filepath.Join(f.Home, n)] = true
			add(KindRCBlock, filepath.Join(f.Home, n), UndoBlockFile)
		}
		if zd := env.Getenv("ZDOTDIR"); zd != "" {
			for _, n := range []string{".zshenv", ".zprofile", ".zshrc", ".zlogin"} {
				if p := filepath.Join(zd, n); !seen[p] {
					add(KindRCBlock, p, UndoBlockFile)
				}
			}
		}
		add(KindFishConf, FishConfPath(f, env), UndoOwnedFile)
		add(KindEnvironmentD, EnvironmentDPath(f, env), UndoOwnedFile)
		if f.OS == "darwin" {
			add(KindLaunchAgent, LaunchAgentPath(f), UndoLaunchAgent)
		}
	}
	if uc.ComposeEnv != "" {
		add(KindComposeEnv, uc.ComposeEnv, UndoBlockFile)
	}
	return out
}

// UndoerFunc adapts a package's plain `Undo(ctx, Record) error` (hook.Undo,
// for one) to an Undoer, so wiring it into uninstall's table is one line.
func UndoerFunc(undo func(context.Context, Record) error) Undoer {
	return func(ctx context.Context, uc UndoContext, r Record) step.Result {
		if err := undo(ctx, r); err != nil {
			return failed(r, err)
		}
		return step.Result{Step: r.Step, Status: step.StatusChanged, Detail: fmt.Sprintf("undid %s: %s", r.Kind, r.Target)}
	}
}
