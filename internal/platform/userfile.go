package platform

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/claire-de-binare/cdb-setup/internal/step"
)

// Record kinds written by the environment steps. uninstall maps each kind to
// its undo function; see EnvUndoers.
const (
	KindRCBlock      = "rc-block"       // managed block in a shell rc file
	KindComposeEnv   = "compose-env"    // managed block in the .env of the compose folder (the manifest's compose_dir)
	KindFishConf     = "fish-conf"      // owned file in fish's conf.d
	KindEnvironmentD = "environment.d"  // owned file in ~/.config/environment.d
	KindLaunchAgent  = "launch-agent"   // owned LaunchAgent plist (+ launchctl setenv)
	KindRegistry     = "registry-value" // HKCU\Environment\SECRETS_PATH
	KindWSLENV       = "wslenv"         // our entry in HKCU\Environment\WSLENV
)

// userFile is a user's file as we will edit it: the path the user knows
// (~/.bashrc) and the file actually written when that is a symlink (stow,
// chezmoi, a dotfiles repo): we write through the link and keep it a link.
type userFile struct {
	path     string
	resolved string
	exists   bool
	info     os.FileInfo
	content  []byte
}

// readUserFile reads path for editing, refusing what we must not write: a
// folder, a read-only file (the user made it so on purpose), a broken link.
func readUserFile(path string) (userFile, error) {
	uf := userFile{path: path, resolved: path}
	if _, err := os.Lstat(path); errors.Is(err, fs.ErrNotExist) {
		return uf, nil
	} else if err != nil {
		return uf, fmt.Errorf("read %s: %w", path, err)
	}
	res, err := filepath.EvalSymlinks(path)
	if err != nil {
		return uf, step.WithFix(fmt.Errorf("%s is a symlink whose target cannot be read: %w", path, err),
			fmt.Sprintf("repair or remove the link %s, then run again", path))
	}
	uf.resolved = res
	fi, err := os.Stat(res)
	if err != nil {
		return uf, fmt.Errorf("read %s: %w", path, err)
	}
	if fi.IsDir() {
		return uf, step.WithFix(fmt.Errorf("%s is a folder, not a file", path),
			fmt.Sprintf("move the folder %s aside, then run again", path))
	}
	if !fi.Mode().IsRegular() {
		return uf, fmt.Errorf("%s is not a regular file (%s)", path, fi.Mode().Type())
	}
	if fi.Mode().Perm()&0o200 == 0 {
		return uf, step.WithFix(fmt.Errorf("%s is read-only (mode %04o); cdb-setup does not override that", path, fi.Mode().Perm()),
			MakeWritableCommand(runtime.GOOS, res)+", then run again")
	}
	b, err := os.ReadFile(res)
	if err != nil {
		return uf, fmt.Errorf("read %s: %w", path, err)
	}
	uf.exists, uf.info, uf.content = true, fi, b
	return uf, nil
}

// write replaces the file atomically through any symlink, keeping its mode
// and owner; a new file gets mode perm. It returns the folders it had to
// create (deepest first), so undo can remove them again when empty.
func (uf userFile) write(data []byte, perm os.FileMode) ([]string, error) {
	var created []string
	if uf.exists {
		perm = uf.info.Mode().Perm()
	} else {
		for d := filepath.Dir(uf.resolved); ; d = filepath.Dir(d) {
			if _, err := os.Lstat(d); err == nil || filepath.Dir(d) == d {
				break
			}
			created = append(created, d)
		}
		if err := os.MkdirAll(filepath.Dir(uf.resolved), 0o755); err != nil {
			return nil, fmt.Errorf("create folder for %s: %w", uf.path, err)
		}
	}
	if err := WriteFileAtomic(uf.resolved, data, perm); err != nil {
		return created, err
	}
	if uf.exists {
		if err := keepOwner(uf.resolved, uf.info); err != nil {
			return nil, fmt.Errorf("keep owner of %s: %w", uf.path, err)
		}
	}
	return created, nil
}

// rollback undoes a write whose record could not be saved (a full disk):
// without the record `env unset` would not know the change, and a file
// cdb-setup created would stay forever (empty, once the block is gone).
func (uf userFile) rollback(dirs []string) error {
	if !uf.exists {
		if err := os.Remove(uf.resolved); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		removeCreatedDirs(Record{Data: createdDirsData(nil, dirs)})
		return nil
	}
	_, err := uf.write(uf.content, uf.info.Mode().Perm())
	return err
}

// recordOrRollback records a change just made; when the record cannot be
// saved, the change is undone (and the state in memory put back), so
// nothing is left that the state file does not know.
func recordOrRollback(st *State, r Record, uf userFile, dirs []string, keep ...string) error {
	prev, found := findRecord(st, r.Kind, r.Target)
	err := remember(st, r, keep...)
	if err == nil {
		return nil
	}
	st.Delete(r.Step, r.Kind, r.Target)
	if found {
		st.Put(prev)
	}
	if rbErr := uf.rollback(dirs); rbErr != nil {
		return fmt.Errorf("could not record the change to %s (%v), and undoing it failed too (%v): remove the cdb-setup block from %s by hand", uf.path, err, rbErr, uf.path)
	}
	return fmt.Errorf("could not record the change to %s, so it was undone (nothing changed): %w", uf.path, err)
}

// createdDirsData stores created folders in a record.
func createdDirsData(data map[string]string, dirs []string) map[string]string {
	if len(dirs) > 0 {
		if data == nil {
			data = map[string]string{}
		}
		data["created_dirs"] = strings.Join(dirs, string(os.PathListSeparator))
	}
	return data
}

// removeCreatedDirs removes the folders a record says cdb-setup created,
// deepest first, stopping at the first that is not empty (it holds
// something of the user's now).
func removeCreatedDirs(r Record) {
	if r.Data["created_dirs"] == "" {
		return
	}
	for _, d := range filepath.SplitList(r.Data["created_dirs"]) {
		if os.Remove(d) != nil {
			return
		}
	}
}

// backupOnce copies the file's original bytes into the state folder the
// first time cdb-setup changes it; later runs keep that first backup.
func backupOnce(stateDir string, uf userFile, prev Record, found bool) (string, error) {
	if found && prev.Data["backup"] != "" {
		return prev.Data["backup"], nil
	}
	if !uf.exists || stateDir == "" {
		return "", nil
	}
	sum := sha256.Sum256([]byte(uf.path))
	name := filepath.Base(uf.path) + "." + hex.EncodeToString(sum[:4]) + ".bak"
	// No record means this is the first change since install (or since the
	// last unset): back up the file as it is now, replacing an older backup.
	p := filepath.Join(stateDir, "backups", name)
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return "", fmt.Errorf("backup %s: %w", uf.path, err)
	}
	if err := WriteFileAtomic(p, uf.content, 0o600); err != nil {
		return "", fmt.Errorf("backup %s: %w", uf.path, err)
	}
	return p, nil
}

// findRecord returns the state's record of kind for target.
func findRecord(st *State, kind, target string) (Record, bool) {
	if st == nil {
		return Record{}, false
	}
	for _, r := range st.Find(kind) {
		if r.Target == target {
			return r, true
		}
	}
	return Record{}, false
}

// remember records a change, keeping what the first change learned (the
// backup, whether we created the file, the value before us): a second
// `env set` must not make our own value look like the user's original.
func remember(st *State, r Record, keep ...string) error {
	if st == nil {
		return nil
	}
	if prev, ok := findRecord(st, r.Kind, r.Target); ok {
		for _, k := range keep {
			if v, ok := prev.Data[k]; ok {
				if r.Data == nil {
					r.Data = map[string]string{}
				}
				r.Data[k] = v
			}
		}
		st.Delete(prev.Step, prev.Kind, prev.Target)
	}
	st.Put(r)
	return st.Save()
}

func forget(st *State, r Record) error {
	if st == nil {
		return nil
	}
	st.Delete(r.Step, r.Kind, r.Target)
	return st.Save()
}

// blockFileStep keeps a managed block in a user's file (shell rc, compose .env).
type blockFileStep struct {
	id, kind string
	path     string
	block    Block
	create   bool // create the file when missing (else skip it)
	stateDir string
	state    *State
	what     string // "bash login shells", for the human line
}

func (s *blockFileStep) ID() string { return s.id }

func (s *blockFileStep) compute() (userFile, []byte, error) {
	uf, err := readUserFile(s.path)
	if err != nil {
		return uf, nil, err
	}
	if !uf.exists && !s.create {
		return uf, nil, nil
	}
	out, err := Upsert(uf.content, s.block)
	if err != nil {
		return uf, nil, step.WithFix(fmt.Errorf("%s: %w", s.path, err),
			fmt.Sprintf("edit %s so it has exactly one block from %q to %q (or none), then run again", s.path, s.block.Begin, s.block.End))
	}
	return uf, out, nil
}

func (s *blockFileStep) Plan(ctx context.Context) (step.Change, error) {
	uf, out, err := s.compute()
	if err != nil {
		return step.Change{}, err
	}
	c := step.Change{Step: s.id, Targets: []string{s.path}}
	switch {
	case out == nil:
		c.None, c.Summary = true, fmt.Sprintf("%s does not exist; not needed", s.path)
	case uf.exists && string(out) == string(uf.content):
		c.None, c.Summary = true, fmt.Sprintf("%s already sets SECRETS_PATH", s.path)
	case !uf.exists:
		c.Summary = fmt.Sprintf("create %s with a cdb-setup block setting SECRETS_PATH (%s)", s.path, s.what)
	default:
		c.Summary = fmt.Sprintf("add or update the cdb-setup block in %s (%s)", s.path, s.what)
	}
	if uf.resolved != s.path {
		c.Summary += " (through the symlink to " + uf.resolved + ")"
	}
	return c, nil
}

func (s *blockFileStep) Apply(ctx context.Context) (step.Result, error) {
	uf, out, err := s.compute()
	if err != nil {
		return step.Failed(s.id, err, step.FixOf(err)), err
	}
	if out == nil {
		return step.Result{Step: s.id, Status: step.StatusSkipped, Detail: fmt.Sprintf("%s does not exist; not needed", s.path)}, nil
	}
	fields := map[string]any{"file": s.path, "kind": s.kind}
	if uf.exists && string(out) == string(uf.content) {
		return step.Result{Step: s.id, Status: step.StatusDone, Detail: fmt.Sprintf("%s already sets SECRETS_PATH", s.path), Fields: fields}, nil
	}
	prev, found := findRecord(s.state, s.kind, s.path)
	backup, err := backupOnce(s.stateDir, uf, prev, found)
	if err != nil {
		return step.Failed(s.id, err, ""), err
	}
	dirs, err := uf.write(out, 0o644)
	if err != nil {
		return step.Failed(s.id, err, ""), err
	}
	data := createdDirsData(map[string]string{"resolved": uf.resolved}, dirs)
	if backup != "" {
		data["backup"] = backup
	}
	if !uf.exists {
		data["created"] = "true"
	}
	if err := recordOrRollback(s.state, Record{Step: s.id, Kind: s.kind, Target: s.path, Data: data}, uf, dirs, "backup", "created", "created_dirs"); err != nil {
		return step.Failed(s.id, err, "free disk space in the state folder "+s.stateDir+" (or make it writable), then run again"), err
	}
	verb := "updated"
	if !uf.exists {
		verb = "created"
	}
	detail := fmt.Sprintf("%s %s: SECRETS_PATH block for %s", verb, s.path, s.what)
	if uf.resolved != s.path {
		detail += " (written through the symlink to " + uf.resolved + ")"
	}
	if backup != "" {
		fields["backup"] = backup
	}
	return step.Result{Step: s.id, Status: step.StatusChanged, Detail: detail, Fields: fields}, nil
}

// ownedFileStep writes a file that is entirely ours (fish conf.d, environment.d,
// a LaunchAgent). A file at that path without our header is someone else's:
// we refuse rather than overwrite it.
type ownedFileStep struct {
	id, kind string
	path     string
	content  []byte
	state    *State
	what     string
}

// OwnedHeader starts every file cdb-setup owns; uninstall deletes only files
// that still carry it.
const OwnedHeader = "Added by cdb-setup"

func isOwned(b []byte) bool {
	first, _, _ := strings.Cut(string(b), "\n")
	if strings.HasPrefix(first, "<?xml") { // plist: the header is in a comment on line 2
		rest := string(b)[len(first):]
		first, _, _ = strings.Cut(strings.TrimLeft(rest, "\r\n"), "\n")
	}
	return strings.Contains(first, OwnedHeader)
}

func (s *ownedFileStep) ID() string { return s.id }

func (s *ownedFileStep) check() (userFile, error) {
	uf, err := readUserFile(s.path)
	if err != nil {
		return uf, err
	}
	if uf.exists && !isOwned(uf.content) {
		return uf, step.WithFix(fmt.Errorf("%s exists and was not written by cdb-setup; not overwriting it", s.path),
			fmt.Sprintf("move %s aside (or set SECRETS_PATH in it yourself), then run again", s.path))
	}
	return uf, nil
}

func (s *ownedFileStep) Plan(ctx context.Context) (step.Change, error) {
	uf, err := s.check()
	if err != nil {
		return step.Change{}, err
	}
	c := step.Change{Step: s.id, Targets: []string{s.path}}
	if uf.exists && string(uf.content) == string(s.content) {
		c.None, c.Summary = true, fmt.Sprintf("%s already sets SECRETS_PATH", s.path)
		return c, nil
	}
	c.Summary = fmt.Sprintf("write %s (%s)", s.path, s.what)
	return c, nil
}

func (s *ownedFileStep) Apply(ctx context.Context) (step.Result, error) {
	uf, err := s.check()
	if err != nil {
		return step.Failed(s.id, err, step.FixOf(err)), err
	}
	fields := map[string]any{"file": s.path, "kind": s.kind}
	if uf.exists && string(uf.content) == string(s.content) {
		return step.Result{Step: s.id, Status: step.StatusDone, Detail: fmt.Sprintf("%s already sets SECRETS_PATH", s.path), Fields: fields}, nil
	}
	dirs, err := uf.write(s.content, 0o644)
	if err != nil {
		return step.Failed(s.id, err, ""), err
	}
	if err := recordOrRollback(s.state, Record{Step: s.id, Kind: s.kind, Target: s.path, Data: createdDirsData(nil, dirs)}, uf, dirs, "created_dirs"); err != nil {
		return step.Failed(s.id, err, "free disk space in the state folder (or make it writable), then run again"), err
	}
	return step.Result{Step: s.id, Status: step.StatusChanged, Detail: fmt.Sprintf("wrote %s: %s", s.path, s.what), Fields: fields}, nil
}
