package hook

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/claire-de-binare/cdb-setup/internal/platform"
)

// MaxSecretBytes caps every read of a secret file (the largest real secret
// is an API key); the same cap as internal/secrets.
const MaxSecretBytes = 64 << 10

// MinValueLen is the shortest value the scan looks for: shorter ones would
// match ordinary text and block harmless commits.
const MinValueLen = 8

// emailRE matches an e-mail address: SMTP_USER or ALERT_EMAIL_TO name a
// person, not a credential, and appear in ordinary files.
var emailRE = regexp.MustCompile(`^[^@\s:/]+@[^@\s:/]+\.[A-Za-z]{2,}$`)

// SecretValues are the current values of the secrets in a folder, by file
// name. They live in memory only, for one scan.
type SecretValues struct {
	Dir    string
	Values map[string][]byte
	// Skipped lists files whose value is not looked for, with the reason.
	Skipped []string
}

// ReadSecretValues reads every secret file directly in dir (not dot files,
// not .backup) with the size cap. A missing folder yields no values.
func ReadSecretValues(dir string) (SecretValues, error) {
	sv := SecretValues{Dir: dir, Values: map[string][]byte{}}
	ents, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return sv, nil
	}
	if err != nil {
		return sv, fmt.Errorf("read the secrets folder %s: %w", dir, err)
	}
	for _, e := range ents {
		name := e.Name()
		if strings.HasPrefix(name, ".") || !e.Type().IsRegular() {
			continue
		}
		b, err := platform.ReadFileCapped(filepath.Join(dir, name), MaxSecretBytes)
		if err != nil {
			sv.Skipped = append(sv.Skipped, fmt.Sprintf("%s (%v)", name, err))
			continue
		}
		v := bytes.TrimSpace(b)
		switch {
		case len(v) == 0:
		case len(v) < MinValueLen:
			sv.Skipped = append(sv.Skipped, fmt.Sprintf("%s (shorter than %d characters)", name, MinValueLen))
		case emailRE.Match(v):
		default:
			sv.Values[name] = v
		}
	}
	return sv, nil
}

// Matcher finds secret values in a stream without holding the stream: it
// keeps one chunk plus an overlap of the longest value less one byte, so a
// value split across two reads is still found.
type Matcher struct {
	names  []string
	values [][]byte
	maxLen int
}

// NewMatcher looks for each value in values (keyed by the secret's name).
// Empty values are ignored.
func NewMatcher(values map[string][]byte) *Matcher {
	m := &Matcher{}
	for n := range values {
		if len(values[n]) > 0 {
			m.names = append(m.names, n)
		}
	}
	sort.Strings(m.names)
	for _, n := range m.names {
		v := values[n]
		m.values = append(m.values, v)
		if len(v) > m.maxLen {
			m.maxLen = len(v)
		}
	}
	return m
}

// scanChunk is how much the matcher reads at a time.
const scanChunk = 64 << 10

// Scan reads r to the end and returns the names of the secrets whose value
// occurs in it, sorted.
func (m *Matcher) Scan(r io.Reader) ([]string, error) {
	if len(m.values) == 0 {
		_, err := io.Copy(io.Discard, r)
		return nil, err
	}
	found := make([]bool, len(m.values))
	buf := make([]byte, 0, scanChunk+m.maxLen)
	keep := m.maxLen - 1
	for {
		n, err := io.ReadFull(r, buf[len(buf):len(buf)+scanChunk])
		buf = buf[:len(buf)+n]
		for i, v := range m.values {
			if !found[i] && bytes.Contains(buf, v) {
				found[i] = true
			}
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			break
		}
		if err != nil {
			return nil, err
		}
		if len(buf) > keep {
			copy(buf, buf[len(buf)-keep:])
			buf = buf[:keep]
		}
	}
	var names []string
	for i, f := range found {
		if f {
			names = append(names, m.names[i])
		}
	}
	return names, nil
}
