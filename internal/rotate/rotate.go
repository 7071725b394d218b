// Package rotate is `secrets rotate NAME` on a running stack: the password
// changes inside the service first, then the file is swapped (atomic write,
// old value backed up), then the services that read it only at start are
// recreated, and a login proves the new password. If any step fails, every
// earlier one is undone in reverse, so the old password still works and the
// file still holds it (old-or-new, never a lockout), and the failure says
// which state the stack is in.
package rotate

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/claire-de-binare/cdb-setup/internal/platform"
	"github.com/claire-de-binare/cdb-setup/internal/rekey"
	"github.com/claire-de-binare/cdb-setup/internal/scram"
	"github.com/claire-de-binare/cdb-setup/internal/step"
)

// Options describe one rotation. Values stay in memory only.
type Options struct {
	// Name is the rotated secret (POSTGRES_PASSWORD).
	Name string
	// New is the new value; Old is the file's current one.
	New, Old []byte
	// Files are the secret files the rotation may change (the rotated one
	// and those derived from it), path → current bytes: undo writes them
	// back. Mode is their file mode.
	Files map[string][]byte
	Mode  os.FileMode
	// FileSteps write the new value and re-derive (secrets.RotateSteps).
	FileSteps []step.Step

	// In-service changes, each nil when the secret is not theirs.
	Postgres *rekey.Postgres
	// PostgresService names the compose service (for messages).
	PostgresService string
	Grafana         *rekey.Grafana
	GrafanaService  string
	// Redis is saved (SAVE, authenticated with Old) before it is recreated,
	// so every key is on its volume when the new container starts.
	Redis        *rekey.Redis
	RedisService string

	// Recreate are the running services that read a changed secret only at
	// start; RecreateFn recreates exactly those (compose up -d
	// --force-recreate --no-deps --wait).
	Recreate   []string
	RecreateFn func(ctx context.Context, services []string) error
	// Prove logs in with the new password (the manifest's checks); Record
	// remembers the volume's new password (volpass). Either may be nil.
	Prove  func(ctx context.Context) error
	Record func(ctx context.Context) error
}

// txn is what the steps of one rotation share: the undo actions so far.
type txn struct {
	o Options
	// undo runs newest first; after runs once undo is done (recreating
	// containers needs the old files back first).
	undo  []action
	after []action
}

type action struct {
	what string
	do   func(ctx context.Context) error
}

// rollback undoes everything done so far and says in which state the
// stack is: the old password everywhere, or what could not be undone.
func (t *txn) rollback(ctx context.Context) string {
	// The user's Ctrl-C must not stop the undo half-way.
	ctx = context.WithoutCancel(ctx)
	var failed []string
	run := func(list []action) {
		for _, a := range list {
			if err := a.do(ctx); err != nil {
				failed = append(failed, fmt.Sprintf("%s: %v", a.what, err))
			}
		}
	}
	for i, j := 0, len(t.undo)-1; i < j; i, j = i+1, j-1 {
		t.undo[i], t.undo[j] = t.undo[j], t.undo[i]
	}
	run(t.undo)
	run(t.after)
	done := len(t.undo) + len(t.after)
	t.undo, t.after = nil, nil
	switch {
	case done == 0:
		return fmt.Sprintf("nothing was changed: %s is as it was, and the old password still works", t.o.Name)
	case len(failed) == 0:
		return fmt.Sprintf("rolled back: the file holds the old %s again and the services accept it", t.o.Name)
	}
	return fmt.Sprintf("rollback INCOMPLETE (%s): check with `cdb-setup doctor`", strings.Join(failed, "; "))
}

// fail undoes the rotation and builds the failed result.
func (t *txn) fail(ctx context.Context, id string, err error) (step.Result, error) {
	state := t.rollback(ctx)
	fix := step.FixOf(err)
	if fix == "" {
		fix = fmt.Sprintf("fix the cause above, then run `cdb-setup secrets rotate %s` again", t.o.Name)
	}
	return step.Failed(id, fmt.Errorf("%w; %s", err, state), fix), nil
}

// Steps are the rotation in order. Each Apply that fails undoes what the
// earlier ones did.
func Steps(o Options) []step.Step {
	t := &txn{o: o}
	var out []step.Step
	if o.Postgres != nil {
		out = append(out, &fnStep{t: t, id: "rotate.postgres." + o.Name,
			summary: fmt.Sprintf("change the password of role %s inside %s (ALTER ROLE with a SCRAM-SHA-256 verifier, on the container's local socket)", o.Postgres.User, o.PostgresService),
			apply:   t.postgres})
	}
	if o.Grafana != nil {
		out = append(out, &fnStep{t: t, id: "rotate.grafana." + o.Name,
			summary: fmt.Sprintf("change Grafana's admin password inside %s (grafana cli admin reset-admin-password --password-from-stdin)", o.GrafanaService),
			apply:   t.grafana})
	}
	if o.Redis != nil && contains(o.Recreate, o.RedisService) {
		out = append(out, &fnStep{t: t, id: "rotate.save." + o.RedisService,
			summary: fmt.Sprintf("save %s's data to its volume (SAVE) before it restarts", o.RedisService),
			apply: func(ctx context.Context) (string, error) {
				if err := o.Redis.Save(ctx, o.Old); err != nil {
					return "", err
				}
				return fmt.Sprintf("%s saved its data to its volume", o.RedisService), nil
			}})
	}
	// The file swap: the undo writes every file back before the steps run,
	// so a failure inside them is covered too.
	for i, s := range o.FileSteps {
		s := s
		first := i == 0
		out = append(out, &wrapStep{Step: s, t: t, before: func() {
			if first {
				t.undo = append(t.undo, action{"restore the secret files", t.restoreFiles})
			}
		}})
	}
	if len(o.Recreate) > 0 {
		out = append(out, &fnStep{t: t, id: "rotate.recreate",
			summary: fmt.Sprintf("recreate %s (they read %s only at start; no other container is touched)", strings.Join(o.Recreate, ", "), o.Name),
			apply: func(ctx context.Context) (string, error) {
				// If a later step fails, the old files are back first, then
				// these containers are recreated again to read them.
				t.after = append(t.after, action{"recreate " + strings.Join(o.Recreate, ", ") + " with the old files", func(ctx context.Context) error {
					return o.RecreateFn(ctx, o.Recreate)
				}})
				if err := o.RecreateFn(ctx, o.Recreate); err != nil {
					return "", err
				}
				return "recreated " + strings.Join(o.Recreate, ", "), nil
			}})
	}
	if o.Prove != nil {
		out = append(out, &fnStep{t: t, id: "rotate.prove." + o.Name,
			summary: "log in with the new " + o.Name,
			apply: func(ctx context.Context) (string, error) {
				if err := o.Prove(ctx); err != nil {
					return "", err
				}
				return "logins with the new " + o.Name + " work", nil
			}})
	}
	if o.Record != nil {
		out = append(out, &fnStep{t: t, id: "rotate.record." + o.Name,
			summary: "record which password the volume now holds (a salted fingerprint)",
			apply: func(ctx context.Context) (string, error) {
				t.undo, t.after = nil, nil // done: nothing to roll back past this point
				if err := o.Record(ctx); err != nil {
					// Not worth a rollback: the next check asks the server.
					return "the new password works; its fingerprint could not be recorded: " + err.Error(), nil
				}
				return "recorded the volume's new password (fingerprint)", nil
			}})
	}
	return out
}

func (t *txn) postgres(ctx context.Context) (string, error) {
	pg := t.o.Postgres
	old, err := pg.Verifier(ctx)
	if err != nil {
		return "", err
	}
	// The server must hold the file's password now: otherwise the file is
	// already wrong, and re-keying would hide that.
	if ok, err := old.Matches(string(t.o.Old)); err != nil || !ok {
		if errors.Is(err, scram.ErrNotASCII) {
			return "", err
		}
		return "", step.WithFix(fmt.Errorf("%s does not accept the current %s (checked against the role's verifier): the file and the server disagree already", t.o.PostgresService, t.o.Name),
			"`cdb-setup secrets recover` re-keys the running services to the secret files")
	}
	if err := pg.SetPassword(ctx, t.o.New); err != nil {
		return "", err
	}
	// Over the TCP fallback the role now logs in with the new password.
	after := *pg
	if len(after.Password) > 0 {
		after.Password = t.o.New
	}
	t.undo = append(t.undo, action{"restore the old password of role " + pg.User, func(ctx context.Context) error { return after.SetVerifier(ctx, old) }})
	return fmt.Sprintf("role %s in %s has the new password (sent as a SCRAM verifier)", pg.User, t.o.PostgresService), nil
}

func (t *txn) grafana(ctx context.Context) (string, error) {
	g := t.o.Grafana
	if err := g.SetAdminPassword(ctx, t.o.New); err != nil {
		return "", err
	}
	t.undo = append(t.undo, action{"restore Grafana's old admin password", func(ctx context.Context) error { return g.SetAdminPassword(ctx, t.o.Old) }})
	return fmt.Sprintf("Grafana's admin password in %s is the new one", t.o.GrafanaService), nil
}

// restoreFiles writes every file back as it was (atomically; a file that
// did not exist is removed).
func (t *txn) restoreFiles(ctx context.Context) error {
	var errs []error
	for path, b := range t.o.Files {
		if b == nil {
			if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
				errs = append(errs, err)
			}
			continue
		}
		if err := platform.WriteFileAtomic(path, b, t.o.Mode); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// fnStep is one in-service action.
type fnStep struct {
	t       *txn
	id      string
	summary string
	apply   func(ctx context.Context) (string, error)
}

func (s *fnStep) ID() string { return s.id }

func (s *fnStep) Plan(context.Context) (step.Change, error) {
	return step.Change{Step: s.id, Summary: s.summary}, nil
}

func (s *fnStep) Apply(ctx context.Context) (step.Result, error) {
	detail, err := s.apply(ctx)
	if err != nil {
		return s.t.fail(ctx, s.id, err)
	}
	return step.Result{Step: s.id, Status: step.StatusChanged, Detail: detail}, nil
}

// wrapStep is a file step whose failure rolls the rotation back.
type wrapStep struct {
	step.Step
	t      *txn
	before func()
}

func (s *wrapStep) Apply(ctx context.Context) (step.Result, error) {
	s.before()
	res, err := s.Step.Apply(ctx)
	if err != nil || res.Status == step.StatusFailed {
		if err == nil {
			err = res.Err
		}
		if err == nil {
			err = errors.New(res.Detail)
		}
		return s.t.fail(ctx, s.ID(), err)
	}
	return res, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Unwrap is the file step inside (callers look for secrets.SecretStep).
func (s *wrapStep) Unwrap() step.Step { return s.Step }
