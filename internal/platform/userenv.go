package platform

import (
	"context"
	"errors"
	"fmt"

	"github.com/claire-de-binare/cdb-setup/internal/step"
)

// UserEnvStore is the persistent per-user environment of Windows
// (HKCU\Environment). An interface so the steps' decisions are tested on any
// machine; the real registry is tested under Wine.
type UserEnvStore interface {
	// Get returns the value, whether it is REG_EXPAND_SZ, and whether it exists.
	Get(name string) (value string, expand bool, exists bool, err error)
	Set(name, value string, expand bool) error
	Delete(name string) error
	// Broadcast tells running programs (Explorer, so everything it starts
	// next) that the environment changed.
	Broadcast() error
}

// UserEnvKey names the registry key in messages and records.
const UserEnvKey = `HKCU\Environment`

// ErrNoUserEnv: there is no registry outside Windows.
var ErrNoUserEnv = errors.New("the per-user registry environment exists only on Windows")

func regType(expand bool) string {
	if expand {
		return "REG_EXPAND_SZ"
	}
	return "REG_SZ"
}

// registryStep sets HKCU\Environment\SECRETS_PATH and broadcasts the change.
// It never runs setx (which truncates at 1024 characters and cannot tell
// REG_SZ from REG_EXPAND_SZ reliably).
type registryStep struct{ o PersistOptions }

func (s *registryStep) ID() string     { return "env.registry" }
func (s *registryStep) target() string { return UserEnvKey + `\` + EnvVar }

func (s *registryStep) Plan(ctx context.Context) (step.Change, error) {
	if s.o.UserEnv == nil {
		return step.Change{}, ErrNoUserEnv
	}
	cur, exp, ok, err := s.o.UserEnv.Get(EnvVar)
	if err != nil {
		return step.Change{}, registryErr("read", s.target(), err)
	}
	want := NeedsExpandSZ(s.o.Value)
	c := step.Change{Step: s.ID(), Targets: []string{s.target()}}
	if ok && cur == s.o.Value && exp == want {
		c.None, c.Summary = true, s.target()+" already set"
		return c, nil
	}
	c.Summary = fmt.Sprintf("set %s (%s) and tell running programs", s.target(), regType(want))
	return c, nil
}

func registryErr(verb, target string, err error) error {
	return step.WithFix(fmt.Errorf("%s %s: %w", verb, target, err),
		"cdb-setup needs write access to your own HKCU\\Environment key; if a policy blocks it, ask your administrator, or set SECRETS_PATH in System Properties > Environment Variables")
}

func (s *registryStep) Apply(ctx context.Context) (step.Result, error) {
	if s.o.UserEnv == nil {
		return step.Failed(s.ID(), ErrNoUserEnv, ""), ErrNoUserEnv
	}
	cur, exp, ok, err := s.o.UserEnv.Get(EnvVar)
	if err != nil {
		err = registryErr("read", s.target(), err)
		return step.Failed(s.ID(), err, step.FixOf(err)), err
	}
	want := NeedsExpandSZ(s.o.Value)
	fields := map[string]any{"registry": s.target(), "type": regType(want)}
	if ok && cur == s.o.Value && exp == want {
		// Unchanged: no write, no broadcast.
		return step.Result{Step: s.ID(), Status: step.StatusDone, Detail: s.target() + " already set", Fields: fields}, nil
	}
	if err := s.o.UserEnv.Set(EnvVar, s.o.Value, want); err != nil {
		err = registryErr("write", s.target(), err)
		return step.Failed(s.ID(), err, step.FixOf(err)), err
	}
	data := map[string]string{}
	if ok {
		data["previous"], data["previous_type"] = cur, regType(exp)
	}
	if err := remember(s.o.State, Record{Step: s.ID(), Kind: KindRegistry, Target: s.target(), Data: data}, "previous", "previous_type"); err != nil {
		return step.Failed(s.ID(), err, ""), err
	}
	detail := fmt.Sprintf("set %s (%s)", s.target(), regType(want))
	if berr := s.o.UserEnv.Broadcast(); berr != nil {
		detail += "; telling running programs failed (" + berr.Error() + "): sign out and in again"
	}
	return step.Result{Step: s.ID(), Status: step.StatusChanged, Detail: detail, Fields: fields}, nil
}

// WSLENVEntry shares SECRETS_PATH with WSL, translated to a /mnt/... path.
const WSLENVEntry = EnvVar + "/p"

type wslenvStep struct{ o PersistOptions }

func (s *wslenvStep) ID() string     { return "env.wslenv" }
func (s *wslenvStep) target() string { return UserEnvKey + `\WSLENV` }

func (s *wslenvStep) read() (cur string, exp, ok bool, merged, replaced string, err error) {
	if s.o.UserEnv == nil {
		return "", false, false, "", "", ErrNoUserEnv
	}
	cur, exp, ok, err = s.o.UserEnv.Get("WSLENV")
	if err != nil {
		return "", false, false, "", "", registryErr("read", s.target(), err)
	}
	merged, replaced = MergeWSLENV(cur, WSLENVEntry)
	return
}

func (s *wslenvStep) Plan(ctx context.Context) (step.Change, error) {
	cur, _, _, merged, _, err := s.read()
	if err != nil {
		return step.Change{}, err
	}
	c := step.Change{Step: s.ID(), Targets: []string{s.target()}}
	if merged == cur {
		c.None, c.Summary = true, s.target()+" already shares SECRETS_PATH with WSL"
		return c, nil
	}
	c.Summary = fmt.Sprintf("add %s to %s (other entries kept)", WSLENVEntry, s.target())
	return c, nil
}

func (s *wslenvStep) Apply(ctx context.Context) (step.Result, error) {
	cur, exp, ok, merged, replaced, err := s.read()
	if err != nil {
		return step.Failed(s.ID(), err, step.FixOf(err)), err
	}
	if merged == cur {
		return step.Result{Step: s.ID(), Status: step.StatusDone, Detail: s.target() + " already shares SECRETS_PATH with WSL"}, nil
	}
	if err := s.o.UserEnv.Set("WSLENV", merged, exp); err != nil {
		err = registryErr("write", s.target(), err)
		return step.Failed(s.ID(), err, step.FixOf(err)), err
	}
	data := map[string]string{"entry": WSLENVEntry}
	if replaced != "" {
		data["replaced"] = replaced
	}
	if !ok {
		data["created"] = "true"
	}
	if err := remember(s.o.State, Record{Step: s.ID(), Kind: KindWSLENV, Target: s.target(), Data: data}, "replaced", "created"); err != nil {
		return step.Failed(s.ID(), err, ""), err
	}
	_ = s.o.UserEnv.Broadcast()
	return step.Result{Step: s.ID(), Status: step.StatusChanged, Detail: fmt.Sprintf("added %s to %s", WSLENVEntry, s.target())}, nil
}
