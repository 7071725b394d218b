// Package volpass remembers which password a Docker volume was initialised
// with, without keeping the password: a salted fingerprint (HMAC-SHA256
// with a per-install random key) recorded in the state file, keyed by the
// Engine's ID and the volume's name.
//
// Timestamps cannot answer this: on Engine 20.10 a local volume's CreatedAt
// is the change time of its _data folder, which postgres moves at every
// start and stop (issue 12, observation 1). A fingerprint only changes when
// cdb-setup saw the volume initialised or re-keyed with a password.
package volpass

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/claire-de-binare/cdb-setup/internal/platform"
)

// Kind is the state record kind of a fingerprint.
const Kind = "volume-password"

// KeyFileName is the key's file next to the state file.
const KeyFileName = "volume-fingerprint.key"

const keyLen = 32

// Verdict is what the book knows about a volume and a password.
type Verdict string

const (
	// Match: the password is the one the volume holds.
	Match Verdict = "match"
	// Mismatch: the volume holds another password.
	Mismatch Verdict = "mismatch"
	// Unknown: no record (a volume made before cdb-setup, another machine's
	// state, a lost key); the login after start settles it.
	Unknown Verdict = "unknown"
)

// Entry is one remembered volume (never the password).
type Entry struct {
	EngineID, Volume string
	// Secret is the secret file's name (POSTGRES_PASSWORD).
	Secret string
	// How says how cdb-setup learned it: "initialised by up", "re-keyed by
	// secrets rotate", "verified against postgres".
	How string
	At  time.Time
}

// Book is the fingerprints of one state folder.
type Book struct {
	dir string
	key []byte
	st  *platform.State
}

// Open loads the state in dir and the fingerprint key, creating the key
// (0600) on first use.
func Open(dir string) (*Book, error) {
	key, err := loadKey(dir)
	if err != nil {
		return nil, err
	}
	st, err := platform.LoadState(dir)
	if err != nil {
		return nil, err
	}
	return &Book{dir: dir, key: key, st: st}, nil
}

// loadKey reads the key, or makes one. A new key is written to a temp file
// and linked into place, so two runs at once agree on one key and a crash
// never leaves a half-written key.
func loadKey(dir string) ([]byte, error) {
	p := filepath.Join(dir, KeyFileName)
	for range 2 {
		b, err := os.ReadFile(p)
		if err == nil {
			if len(b) != keyLen {
				return nil, fmt.Errorf("the fingerprint key %s is damaged (%d bytes, want %d): delete it; volumes then show as unknown until the next login check", p, len(b), keyLen)
			}
			return b, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("read the fingerprint key: %w", err)
		}
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("create the state folder: %w", err)
		}
		key := make([]byte, keyLen)
		if _, err := rand.Read(key); err != nil {
			return nil, fmt.Errorf("random fingerprint key: %w", err)
		}
		tmp := p + ".new-" + base64.RawURLEncoding.EncodeToString(key[:6])
		if err := platform.WriteFileAtomic(tmp, key, 0o600); err != nil {
			return nil, err
		}
		err = os.Link(tmp, p)
		os.Remove(tmp)
		if err == nil {
			return key, nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return nil, fmt.Errorf("store the fingerprint key: %w", err)
		}
		// Another run made it first: read theirs.
	}
	return nil, fmt.Errorf("the fingerprint key %s keeps changing", p)
}

func (b *Book) mac(parts ...string) string {
	h := hmac.New(sha256.New, b.key)
	for _, p := range parts {
		// Length-prefixed, so no two part lists hash alike.
		fmt.Fprintf(h, "%d:", len(p))
		h.Write([]byte(p))
	}
	return base64.RawStdEncoding.EncodeToString(h.Sum(nil))
}

// keyID names the key a record was made with: a record made with a lost
// key is unknown, never a mismatch.
func (b *Book) keyID() string { return b.mac("key-id")[:12] }

func target(engineID, volume string) string { return engineID + "/" + volume }

func (b *Book) fingerprint(engineID, volume string, password []byte) string {
	return b.mac("volume-password", engineID, volume, string(password))
}

// Compare says whether volume on engine holds password, as far as cdb-setup
// recorded it.
func (b *Book) Compare(engineID, volume string, password []byte) (Verdict, Entry) {
	for _, r := range b.st.Find(Kind) {
		if r.Target != target(engineID, volume) {
			continue
		}
		e := entryOf(r)
		if r.Data["key"] != b.keyID() || r.Data["fingerprint"] == "" {
			return Unknown, e
		}
		if hmac.Equal([]byte(r.Data["fingerprint"]), []byte(b.fingerprint(engineID, volume, password))) {
			return Match, e
		}
		return Mismatch, e
	}
	return Unknown, Entry{EngineID: engineID, Volume: volume}
}

func entryOf(r platform.Record) Entry {
	eng, vol := splitTarget(r.Target)
	return Entry{EngineID: eng, Volume: vol, Secret: r.Data["secret"], How: r.Data["how"], At: r.At}
}

func splitTarget(t string) (string, string) {
	for i := len(t) - 1; i >= 0; i-- {
		if t[i] == '/' {
			return t[:i], t[i+1:]
		}
	}
	return "", t
}

// Record remembers that volume on engine now holds password and saves the
// state.
func (b *Book) Record(e Entry, password []byte) error {
	if e.EngineID == "" || e.Volume == "" {
		return errors.New("volpass: engine ID and volume are needed")
	}
	b.st.Put(platform.Record{Step: "volumes", Kind: Kind, Target: target(e.EngineID, e.Volume), At: e.At,
		Data: map[string]string{"secret": e.Secret, "how": e.How, "key": b.keyID(), "fingerprint": b.fingerprint(e.EngineID, e.Volume, password)}})
	return b.st.Save()
}

// Forget drops the record of a volume (it was deleted).
func (b *Book) Forget(engineID, volume string) error {
	b.st.Delete("volumes", Kind, target(engineID, volume))
	return b.st.Save()
}

// Undo is uninstall's undo of a fingerprint record: it changed nothing
// outside the state file, so there is nothing to reverse; uninstall drops
// the record, and the volume shows as unknown until a login settles it.
func Undo(_ context.Context, r platform.Record) error {
	return nil
}
