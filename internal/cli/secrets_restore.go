package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/claire-de-binare/cdb-setup/internal/exitcode"
	"github.com/claire-de-binare/cdb-setup/internal/manifest"
	"github.com/claire-de-binare/cdb-setup/internal/secrets"
	"github.com/claire-de-binare/cdb-setup/internal/step"
)

// secretsMirror is the keychain mirror of the folder a secrets command works
// on: the same service `cdb-setup keychain push` uses (the workspace's project and
// folder), restored files with the mode init uses.
func secretsMirror(sc *secretsContext) *secrets.KeychainMirror {
	m := secrets.NewKeychainMirror(secretsKeychain(), sc.Project, sc.Catalogue)
	m.Mode = sc.Options.Mode
	return m
}

// secretsKeychain is the keychain the secrets commands consult; tests swap
// in a backend that fails like a machine without one.
var secretsKeychain = func() *secrets.Keychain { return &secrets.Keychain{} }

// initKeychainRestore is the restore offer of `secrets init` (issue 4): when
// secret files are missing and the keychain mirror has them, restoring keeps
// the passwords postgres and grafana hold in their volumes. On a terminal it
// asks (default yes); with --yes/--no-input (or no terminal) it restores. It
// returns the pull steps and the names they restore, or nothing when there
// is nothing to restore, no keychain (one line says so), or the user
// declines.
func initKeychainRestore(f *Factory, sc *secretsContext) ([]step.Step, []string, error) {
	if secrets.Complete(sc.Catalogue) {
		return nil, nil, nil // init makes no new value: nothing to restore
	}
	w := f.IO.ErrOut
	m := secretsMirror(sc)
	names, err := m.Restorable(f.ctx())
	switch {
	case secrets.KeychainUnavailable(err):
		fmt.Fprintf(w, "- keychain not checked for copies of missing secrets (%s); missing secrets are generated as usual\n", oneLine(err))
		return nil, nil, nil
	case err != nil:
		// The mirror exists but cannot be read: generating now could
		// replace passwords the keychain (and the volumes) still hold.
		// Main prints it with its fix.
		fix := step.FixOf(err)
		if fix == "" {
			fix = "run the command again once the keychain is readable"
		}
		return nil, nil, exitcode.New(exitcode.Failed, step.WithFix(
			fmt.Errorf("could not read the keychain mirror of %s: %s", sc.SecretsDir, oneLine(err)),
			fix+"; or pass --no-keychain to generate new values anyway"))
	case len(names) == 0:
		return nil, nil, nil
	}
	fmt.Fprintf(w, "The keychain holds a copy of %d missing secret(s): %s (service %s).\n", len(names), strings.Join(names, ", "), m.Service)
	if f.CanPrompt() && !f.Global.DryRun {
		ok, err := confirmDefaultYes(f, "Restore them instead of generating new values? New passwords would lock postgres and grafana out of existing volumes.")
		if err != nil {
			return nil, nil, exitcode.Environmentf("read the answer: %v", err)
		}
		if !ok {
			fmt.Fprintln(w, "- not restoring: new values are generated; the keychain keeps the old copies (`cdb-setup keychain push` replaces them, `cdb-setup keychain pull --force` restores them)")
			return nil, nil, nil
		}
	} else {
		fmt.Fprintln(w, "Restoring them from the keychain instead of generating new values (--no-keychain generates instead).")
	}
	return secrets.KeychainPullSteps(m, false), names, nil
}

// withKeychainRestore puts the restore between the folder step and the
// secret steps; the secret steps of restored names then find their files
// and say "already exists". In the plan (--dry-run, --json) they say the
// keychain copy is used, since the files do not exist yet when it is shown.
func withKeychainRestore(steps, restore []step.Step, restoring map[string]bool) []step.Step {
	out := make([]step.Step, 0, len(steps)+len(restore))
	rest := steps
	if len(steps) > 0 && steps[0].ID() == "secrets.folder" {
		out, rest = append(out, steps[0]), steps[1:]
	}
	out = append(out, restore...)
	for _, s := range rest {
		if ss, ok := s.(*secrets.SecretStep); ok {
			switch {
			case restoring[ss.Secret.Name]:
				s = &restoredSecretStep{SecretStep: ss}
			case ss.Secret.Policy.Kind == manifest.KindDerived && len(restoring) > 0:
				s = &afterRestoreStep{SecretStep: ss}
			}
		}
		out = append(out, s)
	}
	return out
}

// afterRestoreStep is a derived secret (the DSN) whose inputs the restore
// may bring back: before the restore it would be judged against a missing
// password and refused; it is planned again once the restore has run, the
// way the wizard plans each area after the one before.
type afterRestoreStep struct {
	*secrets.SecretStep
}

func (s *afterRestoreStep) Plan(ctx context.Context) (step.Change, error) {
	c, err := s.SecretStep.Plan(ctx)
	if err == nil {
		return c, nil
	}
	path := filepath.Join(s.Dir, s.Secret.Name)
	return step.Change{Step: s.ID(), Targets: []string{path},
		Summary: s.Secret.Name + ": checked again after the keychain restore (its inputs are restored first)"}, nil
}

func (s *afterRestoreStep) Apply(ctx context.Context) (step.Result, error) {
	if _, err := s.SecretStep.Plan(ctx); err != nil {
		return step.Failed(s.ID(), err, step.FixOf(err)), nil
	}
	return s.SecretStep.Apply(ctx)
}

// restoredSecretStep is a secret step whose file the keychain restore
// (an earlier step) writes.
type restoredSecretStep struct {
	*secrets.SecretStep
}

func (s *restoredSecretStep) Plan(ctx context.Context) (step.Change, error) {
	path := filepath.Join(s.Dir, s.Secret.Name)
	if fi, err := os.Lstat(path); err == nil && fi.Size() > 0 {
		return s.SecretStep.Plan(ctx)
	}
	return step.Change{Step: s.ID(), None: true, Targets: []string{path},
		Summary: s.Secret.Name + ": kept as restored from the keychain (not generated)"}, nil
}

// confirmDefaultYes asks a yes/no question whose default (Enter) is yes.
func confirmDefaultYes(f *Factory, question string) (bool, error) {
	fmt.Fprintf(f.IO.ErrOut, "%s [Y/n] ", question)
	line, err := readLine(f)
	if err != nil && line == "" {
		return false, err
	}
	a := strings.ToLower(strings.TrimSpace(line))
	return a == "" || a == "y" || a == "yes", nil
}

// readLine reads one line from stdin byte by byte, so nothing after it is
// consumed (a later prompt still gets its input).
func readLine(f *Factory) (string, error) {
	var b strings.Builder
	buf := make([]byte, 1)
	for {
		n, err := f.IO.In.Read(buf)
		if n == 1 {
			if buf[0] == '\n' {
				return b.String(), nil
			}
			b.WriteByte(buf[0])
		}
		if err != nil {
			return b.String(), err
		}
	}
}

// oneLine keeps an error on one line of output.
func oneLine(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}
