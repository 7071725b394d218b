package platform

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"time"
)

// StateFileName is the state file inside the state folder.
const StateFileName = "state.json"

// StateDir is where cdb-setup keeps what it changed: $XDG_STATE_HOME/cdb-setup
// (default ~/.local/state/cdb-setup) on Unix, %LOCALAPPDATA%\cdb-setup on
// Windows. CDB_SETUP_STATE_DIR overrides both (tests, portable installs).
func StateDir(env Environment, goos string) (string, error) {
	if d := env.Getenv("CDB_SETUP_STATE_DIR"); d != "" {
		return d, nil
	}
	if goos == "windows" {
		if d := env.Getenv("LOCALAPPDATA"); d != "" {
			return filepath.Join(d, "cdb-setup"), nil
		}
		return "", errors.New("LOCALAPPDATA is not set: cannot locate the state folder")
	}
	if d := env.Getenv("XDG_STATE_HOME"); d != "" && filepath.IsAbs(d) {
		return filepath.Join(d, "cdb-setup"), nil
	}
	home := env.Getenv("HOME")
	if home == "" {
		return "", errors.New("HOME is not set: cannot locate the state folder")
	}
	return filepath.Join(home, ".local", "state", "cdb-setup"), nil
}

// Record is one change a step made, with what uninstall needs to undo it.
// Never holds a secret value.
type Record struct {
	// Step is the ID of the step that made the change, e.g. "env.shell".
	Step string `json:"step"`
	// Kind says how to undo it: "rc-block", "file-created", "registry-value",
	// "hook", "keychain", "secrets-folder", ...
	Kind string `json:"kind"`
	// Target is what was changed: a path, a registry key, a keychain service.
	Target string `json:"target"`
	// Data holds kind-specific facts: a backup path, the previous value of a
	// non-secret setting, a chained hook's new name.
	Data map[string]string `json:"data,omitempty"`
	At   time.Time         `json:"at"`
}

// State is everything cdb-setup has changed on this machine for this user.
type State struct {
	Version int      `json:"version"`
	Records []Record `json:"records"`

	path string
	// deleted remembers what Delete removed, so Save can merge without
	// bringing it back.
	deleted map[recordKey]bool
}

type recordKey struct{ step, kind, target string }

func keyOf(r Record) recordKey { return recordKey{r.Step, r.Kind, r.Target} }

// LoadState reads the state file in dir; a missing file is an empty state.
func LoadState(dir string) (*State, error) {
	p := filepath.Join(dir, StateFileName)
	s := &State{Version: 1, path: p}
	b, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return s, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read state %s: %w", p, err)
	}
	if err := json.Unmarshal(b, s); err != nil {
		return nil, fmt.Errorf("state file %s is damaged (%v): move it aside and run again; `cdb-setup uninstall` then also cleans the usual places without it", p, err)
	}
	s.path = p
	return s, nil
}

// Path is the state file's location.
func (s *State) Path() string { return s.path }

// Put adds r, replacing an earlier record of the same step, kind and target.
func (s *State) Put(r Record) {
	if r.At.IsZero() {
		r.At = time.Now().UTC()
	}
	for i, old := range s.Records {
		if old.Step == r.Step && old.Kind == r.Kind && old.Target == r.Target {
			s.Records[i] = r
			return
		}
	}
	s.Records = append(s.Records, r)
}

// Find returns the records of a kind (all kinds when kind is "").
func (s *State) Find(kind string) []Record {
	var out []Record
	for _, r := range s.Records {
		if kind == "" || r.Kind == kind {
			out = append(out, r)
		}
	}
	return out
}

// Delete removes the record of step, kind and target.
func (s *State) Delete(step, kind, target string) {
	if s.deleted == nil {
		s.deleted = map[recordKey]bool{}
	}
	s.deleted[recordKey{step, kind, target}] = true
	out := s.Records[:0]
	for _, r := range s.Records {
		if !(r.Step == step && r.Kind == kind && r.Target == target) {
			out = append(out, r)
		}
	}
	s.Records = out
}

// Save writes the state atomically (0600: it names files and keys, not secrets,
// but it is nobody else's business).
//
// Several steps of one run may each hold a State loaded at different times;
// Save first merges in what another holder saved meanwhile (records this
// State neither has nor deleted), so a later Save never loses an earlier
// one's records. Separate runs are kept apart by the run lock.
func (s *State) Save() error {
	if s.path == "" {
		return errors.New("state has no path: load it with LoadState")
	}
	if disk, err := LoadState(filepath.Dir(s.path)); err == nil {
		have := map[recordKey]bool{}
		for _, r := range s.Records {
			have[keyOf(r)] = true
		}
		for _, r := range disk.Records {
			if k := keyOf(r); !have[k] && !s.deleted[k] {
				s.Records = append(s.Records, r)
			}
		}
	}
	if err := os.MkdirAll(filepath.Dir(s.path), 0o700); err != nil {
		return fmt.Errorf("create state folder: %w", err)
	}
	sort.SliceStable(s.Records, func(i, j int) bool { return s.Records[i].At.Before(s.Records[j].At) })
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	return WriteFileAtomic(s.path, append(b, '\n'), 0o600)
}
