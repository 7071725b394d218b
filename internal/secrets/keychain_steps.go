package secrets

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/claire-de-binare/cdb-setup/internal/platform"
	"github.com/claire-de-binare/cdb-setup/internal/step"
)

// kcRun is what the steps of one push or pull share: the index, read once.
// The first step ("keychain.reach") reports an unreachable keychain with its
// explanation; the per-secret steps then skip instead of repeating it.
type kcRun struct {
	m     *KeychainMirror
	once  sync.Once
	idx   *keychainIndex
	err   error
	dirty bool // the index must be written
}

func (r *kcRun) index(ctx context.Context) (*keychainIndex, error) {
	r.once.Do(func() {
		r.idx, r.err = r.m.readIndex(ctx)
		if r.err == nil && r.idx == nil {
			r.idx = &keychainIndex{Version: 1, SHA256: map[string]string{}}
		}
	})
	return r.idx, r.err
}

// kcStep adapts functions to step.Step.
type kcStep struct {
	id    string
	plan  func(ctx context.Context) (step.Change, error)
	apply func(ctx context.Context) (step.Result, error)
}

func (s *kcStep) ID() string                                    { return s.id }
func (s *kcStep) Plan(ctx context.Context) (step.Change, error) { return s.plan(ctx) }
func (s *kcStep) Apply(ctx context.Context) (step.Result, error) {
	r, err := s.apply(ctx)
	if r.Step == "" {
		r.Step = s.id
	}
	return r, err
}

func kcFailed(id string, err error) step.Result {
	return step.Failed(id, err, step.FixOf(err))
}

// reachStep reads the index: it is the one place an unreachable keychain is
// reported, with what to do.
func (r *kcRun) reachStep(what string) step.Step {
	id := "keychain.reach"
	return &kcStep{
		id: id,
		plan: func(ctx context.Context) (step.Change, error) {
			_, err := r.index(ctx)
			if err != nil {
				// Not a plan error: Apply reports it once, with the fix.
				return step.Change{Step: id, Summary: "keychain not usable: " + err.Error()}, nil
			}
			return step.Change{Step: id, None: true, Summary: fmt.Sprintf("keychain reachable (service %s)", r.m.Service)}, nil
		},
		apply: func(ctx context.Context) (step.Result, error) {
			idx, err := r.index(ctx)
			if err != nil {
				return kcFailed(id, err), nil
			}
			return step.Result{Status: step.StatusDone,
				Detail: fmt.Sprintf("keychain reachable (service %s, %d secrets mirrored); %s", r.m.Service, len(idx.SHA256), what),
				Fields: map[string]any{"service": r.m.Service, "mirrored": len(idx.SHA256)}}, nil
		},
	}
}

var errKCUnreachable = errors.New("the keychain is not usable (see above)")

// KeychainPushSteps mirror every secret file of the catalogue into the
// keychain, then write the index (and record the mirror in the state file
// when m.StateDir is set). Run them with KeepGoing: a secret too big for the
// backend is reported and the others still mirror.
func KeychainPushSteps(m *KeychainMirror) []step.Step {
	r := &kcRun{m: m}
	steps := []step.Step{r.reachStep("mirroring the secret files")}
	for _, name := range m.Names {
		name := name
		id := "keychain.push." + name
		path := filepath.Join(m.Dir, name)
		steps = append(steps, &kcStep{
			id: id,
			plan: func(ctx context.Context) (step.Change, error) {
				c := step.Change{Step: id, Targets: []string{m.Service + "/" + name}}
				f, err := kcReadFile(path)
				idx, ierr := r.index(ctx)
				switch {
				case IsTooLarge(err):
					// Not a plan failure: the others still mirror, and
					// Apply reports this one (a plan error stops them all).
					c.Summary = name + " is not mirrored: " + err.Error()
				case err != nil:
					return c, err
				case !f.exists:
					c.None, c.Summary = true, name+": no file, nothing to mirror"
				case ierr == nil && idx.SHA256[name] == kcSum(f.data) && !needsMTime(idx, name):
					c.None, c.Summary = true, name+" already mirrored"
				case ierr == nil && idx.SHA256[name] == kcSum(f.data):
					c.Summary = name + " already mirrored; record its modification time in the index"
				default:
					c.Summary = fmt.Sprintf("mirror %s (%d bytes) into the keychain", name, len(f.data))
				}
				return c, nil
			},
			apply: func(ctx context.Context) (step.Result, error) {
				idx, err := r.index(ctx)
				if err != nil {
					return step.Result{Status: step.StatusSkipped, Detail: name + " not mirrored: " + errKCUnreachable.Error()}, nil
				}
				f, err := kcReadFile(path)
				if err != nil {
					return kcFailed(id, err), nil
				}
				if !f.exists {
					return step.Result{Status: step.StatusSkipped, Detail: name + ": no file in " + m.Dir + ", nothing to mirror"}, nil
				}
				fields := map[string]any{"name": name, "bytes": len(f.data)}
				if idx.SHA256[name] == kcSum(f.data) {
					if needsMTime(idx, name) {
						// Mirrored by a cdb-setup that kept no times: the
						// keychain copy is these bytes, so their time is this
						// file's. A recorded time is kept (it is the time of
						// these bytes, which a later rewrite of the same
						// value does not change).
						idx.setMTime(name, f.modTime)
						r.dirty = true
						return step.Result{Status: step.StatusChanged, Detail: fmt.Sprintf("%s already mirrored (%d bytes); modification time recorded", name, len(f.data)), Fields: fields}, nil
					}
					return step.Result{Status: step.StatusDone, Detail: fmt.Sprintf("%s already mirrored (%d bytes)", name, len(f.data)), Fields: fields}, nil
				}
				if err := m.pushOne(ctx, idx, name, f); err != nil {
					return kcFailed(id, err), nil
				}
				r.dirty = true
				return step.Result{Status: step.StatusChanged, Detail: fmt.Sprintf("%s mirrored into the keychain (%d bytes)", name, len(f.data)), Fields: fields}, nil
			},
		})
	}
	steps = append(steps, r.indexStep())
	return steps
}

// indexStep writes the index after the per-secret steps and records the
// mirror in the state file.
func (r *kcRun) indexStep() step.Step {
	id := "keychain.index"
	m := r.m
	return &kcStep{
		id: id,
		plan: func(ctx context.Context) (step.Change, error) {
			return step.Change{Step: id, Summary: "update the mirror index " + m.Service + "/" + KeychainIndexUser, Targets: []string{m.Service + "/" + KeychainIndexUser}}, nil
		},
		apply: func(ctx context.Context) (step.Result, error) {
			idx, err := r.index(ctx)
			if err != nil {
				return step.Result{Status: step.StatusSkipped, Detail: "index not written: " + errKCUnreachable.Error()}, nil
			}
			status, detail := step.StatusDone, "mirror index already up to date"
			if r.dirty || idx.Updated.IsZero() {
				if err := m.writeIndex(ctx, idx); err != nil {
					return kcFailed(id, err), nil
				}
				status, detail = step.StatusChanged, fmt.Sprintf("mirror index written: %d secrets in service %s", len(idx.SHA256), m.Service)
			}
			if err := m.record(idx); err != nil {
				return kcFailed(id, fmt.Errorf("record the mirror in the state file: %w", err)), nil
			}
			return step.Result{Status: status, Detail: detail, Fields: map[string]any{"service": m.Service, "mirrored": len(idx.SHA256)}}, nil
		},
	}
}

// KeychainPullSteps restore secret files from the keychain: a missing or
// empty file is written; a file equal to its copy is left alone; a differing
// non-empty file is kept unless force, and then backed up first. The folder
// is created (private) when it is gone. Run with KeepGoing.
func KeychainPullSteps(m *KeychainMirror, force bool) []step.Step {
	r := &kcRun{m: m}
	steps := []step.Step{r.reachStep("restoring the secret files")}
	var dirOnce sync.Once
	var dirErr error
	ensureDir := func() error {
		dirOnce.Do(func() {
			_, dirErr = platform.EnsurePrivateDir(m.Dir, false)
		})
		return dirErr
	}
	// The index is not known before the first step runs, so there is one
	// step per catalogue name plus one for whatever else the index lists.
	for _, name := range m.Names {
		steps = append(steps, r.pullStep(name, force, ensureDir))
	}
	steps = append(steps, &kcStep{
		id: "keychain.pull.others",
		plan: func(ctx context.Context) (step.Change, error) {
			extra := r.extraNames(ctx)
			if len(extra) == 0 {
				return step.Change{Step: "keychain.pull.others", None: true, Summary: "no other secrets in the keychain"}, nil
			}
			return step.Change{Step: "keychain.pull.others", Summary: fmt.Sprintf("restore %d secrets the compose files no longer list", len(extra)), Targets: extra}, nil
		},
		apply: func(ctx context.Context) (step.Result, error) {
			extra := r.extraNames(ctx)
			if len(extra) == 0 {
				return step.Result{Status: step.StatusDone, Detail: "no other secrets in the keychain"}, nil
			}
			// Secrets the compose files no longer list but the index has
			// (a renamed or dropped secret): restored too, so nothing the
			// user mirrored is lost; reported as one result.
			status, fix := step.StatusDone, ""
			var details []string
			for _, n := range extra {
				res, _ := r.pullStep(n, force, ensureDir).Apply(ctx)
				details = append(details, res.Detail)
				switch {
				case res.Status == step.StatusFailed:
					status, fix = step.StatusFailed, res.Fix
				case res.Status == step.StatusChanged && status != step.StatusFailed:
					status = step.StatusChanged
				}
			}
			return step.Result{Status: status, Detail: strings.Join(details, "; "), Fix: fix}, nil
		},
	})
	return steps
}

// needsMTime: the index has name but no time for it.
func needsMTime(idx *keychainIndex, name string) bool {
	_, ok := idx.mtime(name)
	return !ok
}

// restorableMTime is the recorded modification time of name, when the
// restored value is the one the index describes.
func (r *kcRun) restorableMTime(ctx context.Context, name string, value []byte) (time.Time, bool) {
	idx, err := r.index(ctx)
	if err != nil || idx == nil {
		return time.Time{}, false
	}
	h, ok := idx.SHA256[name]
	if !ok || h != kcSum(value) {
		return time.Time{}, false
	}
	return idx.mtime(name)
}

func (r *kcRun) extraNames(ctx context.Context) []string {
	idx, err := r.index(ctx)
	if err != nil {
		return nil
	}
	all := r.m.names(idx)
	return all[len(r.m.Names):]
}

func (r *kcRun) pullStep(name string, force bool, ensureDir func() error) step.Step {
	m := r.m
	id := "keychain.pull." + name
	path := filepath.Join(m.Dir, name)
	// decide compares the file with the index entry.
	decide := func(ctx context.Context) (action string, f kcFile, err error) {
		idx, err := r.index(ctx)
		if err != nil {
			return "unreachable", f, nil
		}
		h, ok := idx.SHA256[name]
		if !ok {
			return "not-mirrored", f, nil
		}
		f, err = kcReadFile(path)
		switch {
		case err != nil:
			return "", f, err
		case !f.exists:
			return "restore", f, nil
		case kcSum(f.data) == h:
			return "in-sync", f, nil
		case len(f.data) == 0:
			return "restore", f, nil // an empty file is not a value to protect
		case force:
			return "overwrite", f, nil
		default:
			return "keep", f, nil
		}
	}
	return &kcStep{
		id: id,
		plan: func(ctx context.Context) (step.Change, error) {
			c := step.Change{Step: id, Targets: []string{path}}
			action, _, err := decide(ctx)
			if err != nil {
				return c, err
			}
			switch action {
			case "unreachable":
				c.Summary = "restore " + name + " (keychain not usable)"
			case "not-mirrored":
				c.None, c.Summary = true, name+" is not in the keychain"
			case "in-sync":
				c.None, c.Summary = true, name+" already matches the keychain"
			case "restore":
				c.Summary = "restore " + name + " from the keychain"
			case "overwrite":
				c.Summary = "back up " + name + " and replace it with the keychain copy"
			case "keep":
				c.None, c.Summary = true, name+" differs from the keychain copy; the file is kept (--force replaces it after a backup)"
			}
			return c, nil
		},
		apply: func(ctx context.Context) (step.Result, error) {
			action, f, err := decide(ctx)
			if err != nil {
				return kcFailed(id, err), nil
			}
			switch action {
			case "unreachable":
				return step.Result{Status: step.StatusSkipped, Detail: name + " not restored: " + errKCUnreachable.Error()}, nil
			case "not-mirrored":
				return step.Result{Status: step.StatusSkipped, Detail: name + " is not in the keychain (run `cdb-setup keychain push` while the files are intact)"}, nil
			case "in-sync":
				return step.Result{Status: step.StatusDone, Detail: fmt.Sprintf("%s already matches the keychain (%d bytes)", name, len(f.data))}, nil
			case "keep":
				return step.Result{Status: step.StatusSkipped,
					Detail: name + " differs from the keychain copy; kept the file (--force restores the copy after backing the file up)",
					Fix:    "cdb-setup keychain pull --force (backs the file up first), or `cdb-setup keychain push` to mirror the file instead"}, nil
			}
			value, err := m.fetch(ctx, name)
			if err != nil {
				return kcFailed(id, err), nil
			}
			if err := ensureDir(); err != nil {
				return kcFailed(id, err), nil
			}
			fields := map[string]any{"name": name, "bytes": len(value)}
			detail := fmt.Sprintf("%s restored from the keychain (%d bytes)", name, len(value))
			if idx, _ := r.index(ctx); idx != nil && idx.SHA256[name] != kcSum(value) {
				// The entry was changed outside cdb-setup after the last push.
				// The entry holds the real bytes; the index only describes them.
				detail += " (the keychain entry changed since the last push)"
				fields["index_stale"] = true
			}
			// The shared writer: a non-empty file is replaced only on
			// "overwrite" (--force), after Backup (.backup/<NAME>.<UTC>); a
			// file that changed since decide is refused, never clobbered.
			out, err := writeSecretBytes(m.Dir, name, value, m.fileMode(), action == "overwrite")
			if err != nil {
				return kcFailed(id, err), nil
			}
			if out.Backup != "" {
				fields["backup"] = out.Backup
				detail += "; the old file is saved as " + out.Backup
			}
			if mt, ok := r.restorableMTime(ctx, name, value); ok {
				// The time belongs to these bytes (their sha256 is the
				// index's): a volume initialised with this value is then
				// not older than the file (checks: volumes.secrets).
				if err := os.Chtimes(out.Path, mt, mt); err != nil {
					detail += fmt.Sprintf("; note: the modification time could not be restored (%v)", err)
				} else {
					detail += "; modification time restored to " + mt.Format(time.RFC3339Nano)
					fields["mtime"] = mt.Format(time.RFC3339Nano)
				}
			}
			if verr := ValidateValue(value); verr != nil {
				// Restored exactly as mirrored (a volume may hold these very
				// bytes); check/fix is where byte problems are repaired.
				detail += fmt.Sprintf("; note: the mirrored value breaks the secret file rules (%v), run `cdb-setup secrets check`", verr)
				fields["byte_rules"] = verr.Error()
			}
			return step.Result{Status: step.StatusChanged, Detail: detail, Fields: fields}, nil
		},
	}
}
