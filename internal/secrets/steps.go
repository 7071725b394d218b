package secrets

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/claire-de-binare/cdb-setup/internal/manifest"
	"github.com/claire-de-binare/cdb-setup/internal/platform"
	"github.com/claire-de-binare/cdb-setup/internal/step"
)

// Options are shared by every set of secret steps.
type Options struct {
	Catalogue *Catalogue
	// Mode is the secret files' mode (DefaultFileMode); ignored on Windows.
	Mode os.FileMode
	// TLS is true when the tls overlay is chosen (the DSN uses sslmode=require).
	TLS bool
	// Env is the non-secret environment for derived templates (ComposeEnv).
	Env map[string]string
	// Repo, when set, makes the folder step refuse a secrets folder inside
	// the git work tree that git does not ignore.
	Repo string
	// Project is the compose project name (volume names are <project>_<volume>).
	Project string
	// StateDir, when set, records the folder's creation in the state file
	// (Kind "secrets-folder") so `uninstall --purge` can find it.
	StateDir string
	// Reach, when set, asks git about the folder once for the whole
	// command (nil: at every check).
	Reach *GitReach
}

func (o Options) dir() string { return o.Catalogue.Dir }

// StateKindFolder is the state record kind of a secrets folder cdb-setup created.
const StateKindFolder = "secrets-folder"

// Preflight checks the secrets folder before any step runs: a folder that
// is a file, a symlink, someone else's, or inside the git work tree stops
// the whole command with one clear error instead of one per secret.
func Preflight(ctx context.Context, o Options) error {
	_, err := (&FolderStep{Dir: o.dir(), Repo: o.Repo, Reach: o.Reach}).Plan(ctx)
	return err
}

// FolderStep creates the secrets folder private to the user (Unix 0700,
// Windows protected DACL), or tightens an existing one.
type FolderStep struct {
	Dir      string
	Repo     string
	StateDir string
	// Reach shares git's answer about the folder (Options.Reach).
	Reach *GitReach
}

func (s *FolderStep) ID() string { return "secrets.folder" }

func (s *FolderStep) Plan(ctx context.Context) (step.Change, error) {
	warnings, err := s.Reach.Check(ctx, s.Repo, s.Dir)
	if err != nil {
		return step.Change{Step: s.ID(), Targets: []string{s.Dir}}, err
	}
	c, err := s.plan()
	for _, w := range warnings {
		c.Summary += "; warning: " + w
	}
	return c, err
}

func (s *FolderStep) plan() (step.Change, error) {
	c := step.Change{Step: s.ID(), Targets: []string{s.Dir}}
	fi, err := os.Lstat(s.Dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		c.Summary = fmt.Sprintf("create the secrets folder %s (only you can enter it)", s.Dir)
		return c, nil
	case err != nil:
		return c, err
	case fi.Mode()&fs.ModeSymlink != 0 || !fi.IsDir():
		return c, platform.CheckPrivateDir(s.Dir, false)
	}
	if perm := fi.Mode().Perm(); runtime.GOOS != "windows" && perm&0o077 == 0 && perm&0o200 == 0 {
		// Private but read-only: the user's choice (issue 13 item 10).
		// Widening it is not ours to do, as with a read-only rc file.
		return c, step.WithFix(fmt.Errorf("the secrets folder %s is read-only (mode %04o): cdb-setup does not make it writable on its own", s.Dir, perm),
			fmt.Sprintf("to change secrets in it, make it writable (chmod u+w %s), run the command again, then make it read-only again (chmod u-w %s)", platform.ShellArg(s.Dir), platform.ShellArg(s.Dir)))
	}
	if err := platform.CheckPrivateDir(s.Dir, false); err != nil {
		if errors.Is(err, platform.ErrForeignOwner) {
			return c, err
		}
		if errors.Is(err, platform.ErrNotEnforced) {
			// Nothing to do that would last: say so, and do not plan a
			// change that the next check would ask for again.
			c.None = true
			c.Summary = fmt.Sprintf("secrets folder %s exists; private permissions are not enforced on this system", s.Dir)
			return c, nil
		}
		c.Summary = fmt.Sprintf("restrict the secrets folder %s to you", s.Dir)
		return c, nil
	}
	c.None = true
	c.Summary = fmt.Sprintf("secrets folder %s exists and is private", s.Dir)
	return c, nil
}

func (s *FolderStep) Apply(ctx context.Context) (step.Result, error) {
	warnings, err := s.Reach.Check(ctx, s.Repo, s.Dir)
	if err != nil {
		return step.Failed(s.ID(), err, ""), nil
	}
	st, err := platform.EnsurePrivateDir(s.Dir, false)
	if err != nil {
		return step.Failed(s.ID(), err, ""), nil
	}
	res := step.Result{Step: s.ID(), Fields: map[string]any{"path": s.Dir, "protection": st.Detail, "created": st.Created, "enforced": !st.NotEnforced}}
	switch {
	case st.NotEnforced && st.Created:
		res.Status = step.StatusChanged
		res.Detail = fmt.Sprintf("Created the secrets folder %s; its %s", s.Dir, st.Detail)
		if s.StateDir != "" {
			if err := recordFolder(s.StateDir, s.Dir, s.Repo, st.CreatedParents); err != nil {
				res.Detail += "; could not record it in the state file: " + err.Error()
			}
		}
	case st.NotEnforced:
		// Not ✓: the folder is not private, and no step here can make it so.
		res.Status = step.StatusSkipped
		res.Detail = fmt.Sprintf("Secrets folder %s: %s", s.Dir, st.Detail)
	case st.Created:
		res.Status = step.StatusChanged
		res.Detail = fmt.Sprintf("Created the secrets folder %s (%s)", s.Dir, st.Detail)
		if s.StateDir != "" {
			if err := recordFolder(s.StateDir, s.Dir, s.Repo, st.CreatedParents); err != nil {
				res.Detail += "; could not record it in the state file: " + err.Error()
			}
		}
	case st.Changed:
		res.Status = step.StatusChanged
		res.Detail = fmt.Sprintf("Restricted the secrets folder %s (%s)", s.Dir, st.Detail)
	default:
		res.Status = step.StatusDone
		res.Detail = fmt.Sprintf("Secrets folder %s already exists (%s)", s.Dir, st.Detail)
	}
	for _, w := range warnings {
		res.Detail += "; warning: " + w
	}
	return res, nil
}

// recordFolder notes the folder (and the repo whose compose files say which
// files in it are secrets, so `uninstall --purge` can run from anywhere),
// and the parent folders created with it (Documents\.secrets), which
// `uninstall --purge` removes too when they are left empty.
func recordFolder(stateDir, dir, repo string, parents []string) error {
	st, err := platform.LoadState(stateDir)
	if err != nil {
		return err
	}
	data := map[string]string{"created": "true", "repo": repo}
	if len(parents) > 0 {
		data[RecordParents] = strings.Join(parents, "\n")
	}
	st.Put(platform.Record{Step: "secrets.folder", Kind: StateKindFolder, Target: dir, Data: data})
	return st.Save()
}

// RecordParents is the secrets-folder record's list (one per line, deepest
// first) of parent folders cdb-setup created along with it.
const RecordParents = "created_parents"

// action is what a secret step will do, decided by inspecting the file.
type action int

const (
	actNone    action = iota // already right
	actMode                  // only permissions
	actWrite                 // create or replace with a new value
	actRemove                // remove an empty folder first, then write
	actFail                  // cannot proceed; err says why
	actRefused               // would replace a non-empty value without force
)

// fileState is a secret file as found.
type fileState struct {
	exists   bool
	regular  bool
	emptyDir bool // a folder with nothing in it (old Docker Desktop made these)
	data     []byte
	modeOK   bool
	kind     string // "a folder", "a symbolic link", ...
}

func inspect(path string, mode os.FileMode) (fileState, error) {
	var fsx fileState
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return fsx, nil
	}
	if err != nil {
		return fsx, err
	}
	fsx.exists = true
	if !fi.Mode().IsRegular() {
		fsx.kind = kindOf(fi)
		if fi.IsDir() {
			ents, err := os.ReadDir(path)
			fsx.emptyDir = err == nil && len(ents) == 0
		}
		return fsx, nil
	}
	fsx.regular = true
	fsx.modeOK = modeMatches(path, fi, mode)
	fsx.data, err = ReadSecret(path)
	return fsx, err
}

// SecretStep makes one secret file right. How the value is made depends on
// the secret's kind and the command (init, fix, rotate, from-env).
type SecretStep struct {
	Secret Secret
	Dir    string
	Mode   os.FileMode
	// Value makes the new value; called only when one must be written
	// (derived values read files written by earlier steps, so this runs at
	// Apply time).
	Value func() ([]byte, error)
	// How says in a few words where the value comes from ("generated, 32
	// characters", "derived from POSTGRES_PASSWORD").
	How string
	// Replace: the value must be written even when the file holds another
	// non-empty value (rotate, --force, fix of a stale DSN); the old value
	// is backed up first.
	Replace bool
	// Keep: an existing non-empty value is kept as it is (init of a
	// generated secret: never regenerate a password that exists).
	Keep bool
	// Accept, if set, says whether an existing value is already right (a
	// DSN matching POSTGRES_PASSWORD in either sslmode).
	Accept func(existing []byte) bool
	// Repair: normalise fixable byte problems (fix).
	Repair bool
	// Missing is the result when there is no value to write (an external
	// secret with no value given): nil means "write Value()".
	Missing func(fileState) *step.Result
	// Overwrite: an existing non-empty value that Accept rejects may be
	// replaced (after a backup). Without it the step fails with RefuseFix.
	Overwrite bool
	RefuseFix string
	// Warn is appended to the detail when the value changed (volumes).
	Warn string
	id   string
}

func (s *SecretStep) ID() string {
	if s.id != "" {
		return s.id
	}
	return "secrets.write." + s.Secret.Name
}

func (s *SecretStep) path() string { return filepath.Join(s.Dir, s.Secret.Name) }

// decide inspects the file and says what Apply would do.
func (s *SecretStep) decide() (action, fileState, string, error) {
	name := s.Secret.Name
	fsx, err := inspect(s.path(), s.Mode)
	if err != nil {
		return actFail, fsx, "", err
	}
	if fsx.exists && !fsx.regular {
		if s.Repair && fsx.emptyDir {
			return actRemove, fsx, fmt.Sprintf("remove the empty folder %s and create the file (%s)", s.path(), s.How), nil
		}
		if fsx.kind == "a folder" {
			return actFail, fsx, "", step.WithFix(fmt.Errorf("%s is a folder, not a file (Docker creates a folder when the file was missing)", s.path()),
				fmt.Sprintf("move %s away (it is not empty, so cdb-setup leaves it), then run `cdb-setup secrets fix`", s.path()))
		}
		// A link or a FIFO is nothing Docker made: say what it is, no more.
		return actFail, fsx, "", step.WithFix(fmt.Errorf("%s is %s, not a regular file; cdb-setup reads and writes secrets only as regular files", s.path(), fsx.kind),
			fmt.Sprintf("move %s away (or replace it with the file itself), then run `cdb-setup secrets fix`", s.path()))
	}
	if !fsx.exists || len(fsx.data) == 0 {
		if s.Missing != nil && !s.Replace {
			return actWrite, fsx, "", nil // Missing decides at Apply
		}
		verb := "create"
		if fsx.exists {
			verb = "fill the empty"
		}
		return actWrite, fsx, fmt.Sprintf("%s %s (%s)", verb, name, s.How), nil
	}
	problems := Lint(name, fsx.data, s.Secret.Policy)
	// A broken value that will be replaced anyway (--force with a new value,
	// a derived value re-derived) needs no repair first.
	if HasErrors(problems) && !s.Replace && !(s.Overwrite && !s.Repair) {
		if s.Repair {
			if _, err := Normalize(fsx.data); err == nil {
				return actWrite, fsx, fmt.Sprintf("repair %s (%s), keeping a backup", name, problemCodes(problems)), nil
			}
		}
		return actFail, fsx, "", step.WithFix(fmt.Errorf("%s", joinProblems(problems)), unfixableFix(s, problems))
	}
	if s.Replace {
		return actWrite, fsx, fmt.Sprintf("replace %s (%s), backing up the old value", name, s.How), nil
	}
	if s.Keep || (s.Accept != nil && s.Accept(fsx.data)) {
		if !fsx.modeOK {
			return actMode, fsx, fmt.Sprintf("correct the permissions of %s", name), nil
		}
		return actNone, fsx, "", nil
	}
	// The value must be what Value() makes (derived, external given).
	if !s.Overwrite {
		return actRefused, fsx, "", step.WithFix(fmt.Errorf("%s %w (%d bytes)", name, ErrExists, len(fsx.data)), s.RefuseFix)
	}
	return actWrite, fsx, fmt.Sprintf("replace %s (%s), backing up the old value", name, s.How), nil
}

func unfixableFix(s *SecretStep, ps []Problem) string {
	for _, p := range ps {
		if p.Severity == SevError && !p.Fixable {
			if s.Secret.Policy.Kind == manifest.KindGenerated {
				return fmt.Sprintf("`cdb-setup secrets rotate %s` replaces it with a new value (the old one is backed up)", s.Secret.Name)
			}
			return fmt.Sprintf("write a clean value into %s, e.g. `cdb-setup secrets init --force --set %s=@FILE`", s.path(), s.Secret.Name)
		}
	}
	return "`cdb-setup secrets fix` repairs it (with a backup)"
}

func (s *SecretStep) Plan(ctx context.Context) (step.Change, error) {
	c := step.Change{Step: s.ID(), Targets: []string{s.path()}}
	act, fsx, summary, err := s.decide()
	if err != nil {
		return c, err
	}
	switch act {
	case actNone:
		c.None = true
		c.Summary = fmt.Sprintf("%s already exists (%d bytes)", s.Secret.Name, len(fsx.data))
	case actWrite:
		if summary == "" {
			if r := s.Missing(fsx); r != nil {
				c.None = r.Status == step.StatusDone
				c.Summary = r.Detail
				if r.Status == step.StatusChanged {
					c.Summary = "create " + s.Secret.Name + " as an empty placeholder (not configured)"
				}
				return c, nil
			}
			summary = fmt.Sprintf("create %s (%s)", s.Secret.Name, s.How)
		}
		c.Summary = summary
	default:
		c.Summary = summary
	}
	return c, nil
}

func (s *SecretStep) Apply(ctx context.Context) (step.Result, error) {
	name := s.Secret.Name
	act, fsx, _, err := s.decide()
	res := step.Result{Step: s.ID(), Fields: map[string]any{"name": name, "path": s.path(), "kind": s.Secret.Policy.Kind}}
	if err != nil {
		return step.Failed(s.ID(), err, step.FixOf(err)), nil
	}
	switch act {
	case actNone:
		res.Status = step.StatusDone
		res.Detail = fmt.Sprintf("%s already exists (%d bytes)", name, len(fsx.data))
		res.Fields["bytes"] = len(fsx.data)
		return res, nil
	case actMode:
		if _, err := ensureMode(s.path(), s.Mode); errors.Is(err, platform.ErrNotEnforced) {
			res.Status = step.StatusSkipped
			res.Detail = fmt.Sprintf("%s already exists (%d bytes); %s", name, len(fsx.data), modeText(s.Mode, true))
			return res, nil
		} else if err != nil {
			return step.Failed(s.ID(), err, ""), nil
		}
		res.Status = step.StatusChanged
		res.Detail = fmt.Sprintf("%s already exists (%d bytes); permissions corrected to %s", name, len(fsx.data), modeText(s.Mode, false))
		return res, nil
	case actRemove:
		if err := os.Remove(s.path()); err != nil {
			return step.Failed(s.ID(), fmt.Errorf("remove the empty folder %s: %w", s.path(), err), ""), nil
		}
		fsx = fileState{} // the place is free now: proceed as for a missing file
	}
	if (!fsx.exists || len(fsx.data) == 0) && s.Missing != nil && !s.Replace {
		if r := s.Missing(fsx); r != nil {
			r.Step = s.ID()
			if r.Fields == nil {
				r.Fields = res.Fields
			}
			return *r, nil
		}
	}
	var value []byte
	repaired := ""
	if s.Repair && fsx.regular && len(fsx.data) > 0 && HasErrors(Lint(name, fsx.data, s.Secret.Policy)) {
		repaired = problemCodes(Lint(name, fsx.data, s.Secret.Policy))
		value, err = Normalize(fsx.data)
		if err == nil && s.Accept != nil && !s.Accept(value) {
			value, err = s.Value()
		}
	} else {
		value, err = s.Value()
	}
	if err != nil {
		return step.Failed(s.ID(), fmt.Errorf("%s: %w", name, err), step.FixOf(err)), nil
	}
	if err := ctx.Err(); err != nil {
		return res, err
	}
	out, err := WriteSecret(s.Dir, name, value, s.Mode, true)
	if err != nil {
		return step.Failed(s.ID(), err, step.FixOf(err)), nil
	}
	res.Fields["bytes"] = out.Bytes
	res.Fields["mode"] = fmt.Sprintf("%04o", s.Mode.Perm())
	switch out.Status {
	case WriteUnchanged:
		res.Status = step.StatusDone
		res.Detail = fmt.Sprintf("%s already exists (%d bytes)", name, out.Bytes)
		if out.ModeChanged {
			res.Status = step.StatusChanged
			res.Detail += "; permissions corrected to " + modeText(s.Mode, out.NotEnforced)
		}
		return res, nil
	case WriteCreated:
		res.Status = step.StatusChanged
		res.Detail = fmt.Sprintf("Created %s (%s, %d bytes, %s)", name, s.How, out.Bytes, modeText(s.Mode, out.NotEnforced))
		if out.Bytes == 0 {
			res.Detail = fmt.Sprintf("Created %s as an empty file: not configured (optional; %s)", name, modeText(s.Mode, out.NotEnforced))
			res.Fields["configured"] = false
		}
	case WriteReplaced:
		res.Status = step.StatusChanged
		res.Fields["backup"] = out.Backup
		res.Detail = fmt.Sprintf("Replaced %s (%s, %d bytes); the old value is in %s", name, s.How, out.Bytes, out.Backup)
		if repaired != "" {
			res.Detail = fmt.Sprintf("Repaired %s (%s; now %d bytes, %s); the old bytes are in %s", name, repaired, out.Bytes, modeText(s.Mode, out.NotEnforced), out.Backup)
			res.Fields["repaired"] = repaired
		}
		if s.Warn != "" {
			res.Detail += "\n  ! " + s.Warn + " The old value is in the backup."
			res.Fields["warning"] = s.Warn
		}
	}
	return res, nil
}

// modeText names the permissions a secret file got; notEnforced: they were
// set, and reading them back showed this system did not keep them.
func modeText(m os.FileMode, notEnforced bool) string {
	what := fmt.Sprintf("mode %04o", m.Perm())
	if isWindows {
		what = "private ACL"
	}
	if notEnforced {
		return what + " set but not enforced here"
	}
	return what
}

func problemCodes(ps []Problem) string {
	var c []string
	for _, p := range ps {
		if p.Severity == SevError {
			c = append(c, p.Code)
		}
	}
	return strings.Join(c, ", ")
}

func joinProblems(ps []Problem) string {
	var m []string
	for _, p := range ps {
		if p.Severity == SevError {
			m = append(m, p.Message)
		}
	}
	return strings.Join(m, "; ")
}

// volumeWarning explains what a new value means for a service that keeps
// its password in a volume (docs/secrets.md, "check and fix").
func volumeWarning(project string, s Secret) string {
	if s.Policy.Volume == "" {
		return ""
	}
	vol := s.Policy.Volume
	if project != "" {
		vol = project + "_" + vol
	}
	return fmt.Sprintf("%s is also stored in the Docker volume %s once its service has started: a new value written only to the file does not reach it, and the service will refuse it (\"password authentication failed\"). Rotate it while the stack runs (`cdb-setup up`, then `cdb-setup secrets rotate %s`): cdb-setup then changes it inside the service and keeps the data.", s.Name, vol, s.Name)
}

// derivedAccept accepts an existing derived value that matches its inputs:
// exactly the TLS choice when tls is set, either sslmode otherwise (check
// cannot know which overlays `up` will use).
func derivedAccept(s Secret, o Options, values map[string][]byte) func([]byte) bool {
	variants := []bool{false, true}
	if o.TLS {
		variants = []bool{true}
	}
	return func(existing []byte) bool {
		for _, tls := range variants {
			v, err := Derive(s.Name, s.Policy.Template, DeriveInput{Dir: o.dir(), Values: values, Env: o.deriveEnv(), TLS: tls})
			if err == nil && bytes.Equal(v, existing) {
				return true
			}
		}
		return false
	}
}

func describeGenerated(p manifest.Secret) string {
	l, a := p.Length, p.Alphabet
	if l == 0 {
		l = 32
	}
	if a == "" {
		a = "alnum"
	}
	return fmt.Sprintf("generated, %d %s characters", l, a)
}

func describeDerived(s Secret) string {
	deps, err := Dependencies(s.Policy.Template)
	if err != nil || len(deps) == 0 {
		return "derived"
	}
	return "derived from " + strings.Join(deps, ", ")
}
