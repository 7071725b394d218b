package secrets

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"time"

	"github.com/claire-de-binare/cdb-setup/internal/platform"
)

// KeychainIndexUser is the keychain entry (user) holding the mirror's index.
// A '/' cannot occur in a secret's file name (Discover refuses subfolders),
// so the index never collides with a secret.
const KeychainIndexUser = "/index"

// KeychainRecordKind is the state-file kind of a keychain mirror; Target is
// the service. uninstall --purge hands such records to Keychain.Purge.
const KeychainRecordKind = "keychain"

// keychainIndex lists what was mirrored, so status and pull never guess: the
// names and the sha256 of each value (never the value itself), which lets
// status compare files with the keychain without reading any secret from it.
type keychainIndex struct {
	Version int    `json:"v"`
	Project string `json:"project"`
	Dir     string `json:"dir"`
	// SHA256 maps a secret's file name to the hex sha256 of its bytes.
	SHA256 map[string]string `json:"sha256"`
	// MTime maps a secret's file name to the file's modification time when
	// it was mirrored (UTC, RFC3339Nano). Pull sets it back on a restored
	// file whose bytes match SHA256, so a volume initialised with that value
	// is not reported as older than the file (checks: volumes.secrets). An
	// index written before cdb-setup recorded times has none: pull then
	// leaves the time of the write.
	MTime   map[string]string `json:"mtime,omitempty"`
	Updated time.Time         `json:"updated"`
}

// setMTime records t as name's modification time (zero: forget it).
func (idx *keychainIndex) setMTime(name string, t time.Time) {
	if t.IsZero() {
		delete(idx.MTime, name)
		return
	}
	if idx.MTime == nil {
		idx.MTime = map[string]string{}
	}
	idx.MTime[name] = t.UTC().Format(time.RFC3339Nano)
}

// mtime is name's recorded modification time, if any (an unparsable one
// counts as none).
func (idx *keychainIndex) mtime(name string) (time.Time, bool) {
	s, ok := idx.MTime[name]
	if !ok {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil || t.IsZero() {
		return time.Time{}, false
	}
	return t, true
}

// KeychainMirror is the keychain copy of one stack's secrets folder.
type KeychainMirror struct {
	Keychain *Keychain
	// Service is KeychainService(Project, Dir).
	Service string
	Project string
	// Dir is the secrets folder, absolute.
	Dir string
	// Names are the secret file names of the catalogue, in its order. Pull
	// and status also cover names only the index knows.
	Names []string
	// StateDir, when set, is where push records the mirror (platform.State)
	// so that uninstall --purge can remove it.
	StateDir string
	// Mode is the mode of restored files (ignored on Windows, where the file
	// gets a protected ACL); 0 means DefaultFileMode for this OS. The CLI
	// passes what `secrets init` uses (--file-mode or DefaultFileMode).
	Mode os.FileMode
	// Now is the clock of the index; nil means time.Now. (Backups are named
	// by Backup: .backup/<NAME>.<UTC timestamp>.)
	Now func() time.Time
}

// NewKeychainMirror is the mirror of cat's folder for the stack project.
func NewKeychainMirror(kc *Keychain, project string, cat *Catalogue) *KeychainMirror {
	return &KeychainMirror{
		Keychain: kc,
		Service:  KeychainService(project, cat.Dir),
		Project:  project,
		Dir:      cat.Dir,
		Names:    cat.Names(),
	}
}

func (m *KeychainMirror) now() time.Time {
	if m.Now != nil {
		return m.Now()
	}
	return time.Now()
}

// withDir puts the secrets folder into a KeychainError so its message can
// say where the secrets stay when there is no keychain.
func (m *KeychainMirror) withDir(err error) error {
	var ke *KeychainError
	if errors.As(err, &ke) && ke.Dir == "" {
		ke.Dir = m.Dir
	}
	return err
}

// readIndex returns the index, or (nil, nil) when nothing was mirrored yet.
func (m *KeychainMirror) readIndex(ctx context.Context) (*keychainIndex, error) {
	s, err := m.Keychain.Get(ctx, m.Service, KeychainIndexUser)
	if IsKeychainKind(err, KeychainNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, m.withDir(err)
	}
	var idx keychainIndex
	if err := json.Unmarshal([]byte(s), &idx); err != nil || idx.Version != 1 {
		return nil, fmt.Errorf("the keychain index of %s is damaged or from a newer cdb-setup: run `cdb-setup keychain push` to rewrite it", m.Service)
	}
	if idx.SHA256 == nil {
		idx.SHA256 = map[string]string{}
	}
	return &idx, nil
}

func (m *KeychainMirror) writeIndex(ctx context.Context, idx *keychainIndex) error {
	idx.Version, idx.Project, idx.Dir, idx.Updated = 1, m.Project, m.Dir, m.now().UTC()
	b, err := json.Marshal(idx)
	if err != nil {
		return err
	}
	if err := m.Keychain.fits(m.Service, KeychainIndexUser, m.Dir, b); err != nil {
		return err
	}
	return m.withDir(m.Keychain.Set(ctx, m.Service, KeychainIndexUser, string(b)))
}

// names is the catalogue's names followed by any the index has beyond them.
func (m *KeychainMirror) names(idx *keychainIndex) []string {
	out := append([]string(nil), m.Names...)
	seen := map[string]bool{}
	for _, n := range out {
		seen[n] = true
	}
	if idx != nil {
		var extra []string
		for n := range idx.SHA256 {
			if !seen[n] {
				extra = append(extra, n)
			}
		}
		sort.Strings(extra)
		out = append(out, extra...)
	}
	return out
}

// kcFile is what is on disk for one secret.
type kcFile struct {
	exists bool
	data   []byte
	mode   fs.FileMode
	// modTime is the file's modification time (of the open file read).
	modTime time.Time
}

// kcReadFile reads a secret file without following a symlink or reading a
// folder (older Docker Desktop created folders in place of missing files).
func kcReadFile(path string) (kcFile, error) {
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return kcFile{}, nil
	}
	if err != nil {
		return kcFile{}, err
	}
	if !fi.Mode().IsRegular() {
		return kcFile{}, fmt.Errorf("%s is not a regular file (run `cdb-setup secrets check`)", path)
	}
	f, err := os.Open(path)
	if err != nil {
		return kcFile{}, err
	}
	defer f.Close()
	b, err := ReadSecretFrom(f, path)
	if err != nil {
		return kcFile{}, err
	}
	mod := fi.ModTime()
	if ofi, err := f.Stat(); err == nil {
		mod = ofi.ModTime()
	}
	return kcFile{exists: true, data: b, mode: fi.Mode().Perm(), modTime: mod}, nil
}

func kcSum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// KeychainEntryState is how a secret file compares with its keychain copy.
type KeychainEntryState string

const (
	KeychainInSync         KeychainEntryState = "in-sync"
	KeychainDiffers        KeychainEntryState = "differs"
	KeychainOnlyInFile     KeychainEntryState = "only-in-file"
	KeychainOnlyInKeychain KeychainEntryState = "only-in-keychain"
	KeychainMissing        KeychainEntryState = "missing" // in neither
	KeychainFileProblem    KeychainEntryState = "file-problem"
)

// KeychainEntry is one secret in a status report. Sizes, never values or
// hashes (a hash of a short, guessable value such as an e-mail address would
// confirm a guess).
type KeychainEntry struct {
	Name      string             `json:"name"`
	State     KeychainEntryState `json:"state"`
	FileBytes int                `json:"file_bytes"`
	Problem   string             `json:"problem,omitempty"`
}

// KeychainStatus is the report of `keychain status`.
type KeychainStatus struct {
	Service string `json:"service"`
	Dir     string `json:"dir"`
	// Mirrored is false when the keychain has no index for this folder.
	Mirrored bool            `json:"mirrored"`
	Updated  *time.Time      `json:"updated,omitempty"`
	Secrets  []KeychainEntry `json:"secrets"`
}

// Status compares every secret file with the keychain index (one keychain
// call, no secret read from the keychain).
func (m *KeychainMirror) Status(ctx context.Context) (KeychainStatus, error) {
	st := KeychainStatus{Service: m.Service, Dir: m.Dir}
	idx, err := m.readIndex(ctx)
	if err != nil {
		return st, err
	}
	hashes := map[string]string{}
	if idx != nil {
		st.Mirrored = true
		u := idx.Updated
		st.Updated = &u
		hashes = idx.SHA256
	}
	for _, n := range m.names(idx) {
		e := KeychainEntry{Name: n}
		f, err := kcReadFile(filepath.Join(m.Dir, n))
		h, inKC := hashes[n]
		switch {
		case err != nil:
			e.State, e.Problem = KeychainFileProblem, err.Error()
		case f.exists && inKC && kcSum(f.data) == h:
			e.State = KeychainInSync
		case f.exists && inKC:
			e.State = KeychainDiffers
		case f.exists:
			e.State = KeychainOnlyInFile
		case inKC:
			e.State = KeychainOnlyInKeychain
		default:
			e.State = KeychainMissing
		}
		e.FileBytes = len(f.data)
		st.Secrets = append(st.Secrets, e)
	}
	return st, nil
}

// Restorable lists the secrets `secrets init` can restore instead of
// generating: the file is missing or empty and the keychain has a copy
// (an empty copy of an empty optional secret is not worth offering). An
// unavailable keychain is an error for which KeychainUnavailable is true:
// init should then say so and generate as usual.
func (m *KeychainMirror) Restorable(ctx context.Context) ([]string, error) {
	idx, err := m.readIndex(ctx)
	if err != nil || idx == nil {
		return nil, err
	}
	var out []string
	for _, n := range m.names(idx) {
		h, ok := idx.SHA256[n]
		if !ok || h == kcSum(nil) {
			continue
		}
		f, err := kcReadFile(filepath.Join(m.Dir, n))
		if err == nil && (!f.exists || len(f.data) == 0) {
			out = append(out, n)
		}
	}
	return out, nil
}

// MirrorUpdate copies the current bytes of the named files into the keychain
// when this folder has a mirror (rotate calls it after writing new values).
// Without a mirror it does nothing and returns false. A too-big value is
// reported; the other names are still updated.
func (m *KeychainMirror) MirrorUpdate(ctx context.Context, names ...string) (bool, error) {
	idx, err := m.readIndex(ctx)
	if err != nil || idx == nil {
		return false, err
	}
	var errs []error
	for _, n := range names {
		f, err := kcReadFile(filepath.Join(m.Dir, n))
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if !f.exists {
			continue
		}
		if err := m.pushOne(ctx, idx, n, f); err != nil {
			errs = append(errs, err)
		}
	}
	if err := m.writeIndex(ctx, idx); err != nil {
		errs = append(errs, err)
	}
	return true, errors.Join(errs...)
}

// pushOne stores the file's bytes as name and notes their hash and the
// file's modification time in idx.
func (m *KeychainMirror) pushOne(ctx context.Context, idx *keychainIndex, name string, f kcFile) error {
	value := f.data
	if err := m.Keychain.fits(m.Service, name, m.Dir, value); err != nil {
		return err
	}
	if err := m.Keychain.Set(ctx, m.Service, name, KeychainEncode(value)); err != nil {
		return m.withDir(err)
	}
	idx.SHA256[name] = kcSum(value)
	idx.setMTime(name, f.modTime)
	return nil
}

// fetch reads and decodes name's keychain copy.
func (m *KeychainMirror) fetch(ctx context.Context, name string) ([]byte, error) {
	s, err := m.Keychain.Get(ctx, m.Service, name)
	if err != nil {
		return nil, m.withDir(err)
	}
	b, err := KeychainDecode(s)
	if err != nil {
		return nil, fmt.Errorf("keychain copy of %s: %w", name, err)
	}
	return b, nil
}

// record notes the mirror in the state file, for uninstall --purge.
func (m *KeychainMirror) record(idx *keychainIndex) error {
	if m.StateDir == "" {
		return nil
	}
	st, err := platform.LoadState(m.StateDir)
	if err != nil {
		return err
	}
	names := make([]string, 0, len(idx.SHA256))
	for n := range idx.SHA256 {
		names = append(names, n)
	}
	sort.Strings(names)
	st.Put(platform.Record{
		Step: "keychain.push", Kind: KeychainRecordKind, Target: m.Service,
		Data: map[string]string{"dir": m.Dir, "project": m.Project, "names": strings.Join(names, "\n")},
	})
	return st.Save()
}

// Purge removes a mirror recorded in the state file: every entry its index
// (and the record) names, then the index. Entries already gone are fine.
// uninstall --purge calls it for each record of KeychainRecordKind; plain
// uninstall keeps the mirror.
func (k *Keychain) Purge(ctx context.Context, rec platform.Record) error {
	if rec.Kind != KeychainRecordKind || !strings.HasPrefix(rec.Target, "cdb-setup:") {
		return fmt.Errorf("not a cdb-setup keychain record: %s %s", rec.Kind, rec.Target)
	}
	m := &KeychainMirror{Keychain: k, Service: rec.Target, Dir: rec.Data["dir"], Project: rec.Data["project"]}
	names := map[string]bool{}
	for _, n := range strings.Split(rec.Data["names"], "\n") {
		if n != "" {
			names[n] = true
		}
	}
	idx, err := m.readIndex(ctx)
	if err != nil && !isDamagedIndex(err) {
		return err
	}
	if idx != nil {
		for n := range idx.SHA256 {
			names[n] = true
		}
	}
	var errs []error
	for n := range names {
		if err := k.Delete(ctx, m.Service, n); err != nil && !IsKeychainKind(err, KeychainNotFound) {
			errs = append(errs, m.withDir(err))
		}
	}
	if len(errs) > 0 {
		// Keep the index so a second purge still knows what to remove.
		return errors.Join(errs...)
	}
	if err := k.Delete(ctx, m.Service, KeychainIndexUser); err != nil && !IsKeychainKind(err, KeychainNotFound) {
		return m.withDir(err)
	}
	return nil
}

func isDamagedIndex(err error) bool {
	var ke *KeychainError
	return err != nil && !errors.As(err, &ke)
}

// fileMode is the mode of restored files: m.Mode, else the mode `secrets
// init` uses by default on this OS (DefaultFileMode).
func (m *KeychainMirror) fileMode() os.FileMode {
	if m.Mode != 0 {
		return m.Mode
	}
	mode, _ := DefaultFileMode(platform.Facts{OS: runtime.GOOS})
	return mode
}

// Copy returns the keychain copy of name, or nil when this folder has no
// mirror or the mirror has no copy of name (`secrets recover` checks it
// against the volume before writing it).
func (m *KeychainMirror) Copy(ctx context.Context, name string) ([]byte, error) {
	idx, err := m.readIndex(ctx)
	if err != nil || idx == nil {
		return nil, err
	}
	if _, ok := idx.SHA256[name]; !ok {
		return nil, nil
	}
	return m.fetch(ctx, name)
}
