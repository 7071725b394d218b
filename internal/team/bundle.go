package team

import (
	"archive/tar"
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"sort"
	"time"
)

// The sealed plaintext is a tar archive of the secret files: byte-exact by
// construction, listed by `tar -t`, and restored without cdb-setup by
// `age -d -i KEY FILE | tar -x -C "$SECRETS_PATH"` (docs/team.md).

// Limits of a bundle: a few short credentials, never megabytes.
const (
	maxSecrets     = 256
	maxSecretBytes = 64 << 10
	maxBundleBytes = 4 << 20
)

// nameRE is a secret file name as the manifest allows it.
var nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

// Bundle is the sealed secrets: file name → exact bytes.
type Bundle map[string][]byte

// Names are the bundle's secret names, sorted.
func (b Bundle) Names() []string {
	out := make([]string, 0, len(b))
	for n := range b {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// epoch is every entry's time: when a value was sealed is not the archive's
// business, and a fixed time leaks nothing about anyone's machine.
var epoch = time.Unix(0, 0).UTC()

// MarshalBundle writes b as a tar archive, names sorted, mode 0600.
func MarshalBundle(b Bundle) ([]byte, error) {
	if len(b) == 0 {
		return nil, errors.New("nothing to seal: no secret has a value")
	}
	if len(b) > maxSecrets {
		return nil, fmt.Errorf("%d secrets: at most %d can be sealed in one file", len(b), maxSecrets)
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, n := range b.Names() {
		if !nameRE.MatchString(n) {
			return nil, fmt.Errorf("secret %q: not a plain file name", n)
		}
		v := b[n]
		if len(v) > maxSecretBytes {
			return nil, fmt.Errorf("secret %s is %d bytes: at most %d can be sealed", n, len(v), maxSecretBytes)
		}
		hdr := &tar.Header{Typeflag: tar.TypeReg, Name: n, Mode: 0o600, Size: int64(len(v)), ModTime: epoch, Format: tar.FormatPAX}
		if err := tw.WriteHeader(hdr); err != nil {
			return nil, err
		}
		if _, err := tw.Write(v); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// UnmarshalBundle reads a tar archive made by MarshalBundle. Anything else
// in it (a folder, a link, a path, a duplicate, an oversized file) is an
// error: the archive was decrypted with a valid key, but age does not say
// who wrote it, so its content is checked like any input.
func UnmarshalBundle(data []byte) (Bundle, error) {
	if len(data) > maxBundleBytes {
		return nil, fmt.Errorf("the sealed content is %d bytes: more than secrets can be", len(data))
	}
	tr := tar.NewReader(bytes.NewReader(data))
	b := Bundle{}
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("the sealed content is not a tar archive of secret files: %v", err)
		}
		if hdr.Typeflag != tar.TypeReg {
			return nil, fmt.Errorf("the sealed content holds %q, which is not a regular file", hdr.Name)
		}
		if !nameRE.MatchString(hdr.Name) {
			return nil, fmt.Errorf("the sealed content holds %q, which is not a plain secret file name", hdr.Name)
		}
		if _, dup := b[hdr.Name]; dup {
			return nil, fmt.Errorf("the sealed content holds %s twice", hdr.Name)
		}
		if hdr.Size > maxSecretBytes {
			return nil, fmt.Errorf("the sealed %s is %d bytes: more than a secret can be", hdr.Name, hdr.Size)
		}
		if len(b) >= maxSecrets {
			return nil, fmt.Errorf("the sealed content holds more than %d files", maxSecrets)
		}
		v, err := io.ReadAll(io.LimitReader(tr, maxSecretBytes+1))
		if err != nil {
			return nil, fmt.Errorf("the sealed %s cannot be read: %v", hdr.Name, err)
		}
		b[hdr.Name] = v
	}
	if len(b) == 0 {
		return nil, errors.New("the sealed content holds no secret")
	}
	return b, nil
}
