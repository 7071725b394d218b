package team

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
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

// The archive is plain USTAR, written and read here rather than with
// archive/tar: a bundle is a few short regular files, and archive/tar
// would cost the binary ~70 KB of its 20 MB budget (docs/team.md).
const blockSize = 512

// MarshalBundle writes b as a USTAR archive, names sorted, mode 0600,
// owner 0, time 0: when a value was sealed and by whom is not the
// archive's business.
func MarshalBundle(b Bundle) ([]byte, error) {
	if len(b) == 0 {
		return nil, errors.New("nothing to seal: no secret has a value")
	}
	if len(b) > maxSecrets {
		return nil, fmt.Errorf("%d secrets: at most %d can be sealed in one file", len(b), maxSecrets)
	}
	var buf bytes.Buffer
	for _, n := range b.Names() {
		if !nameRE.MatchString(n) || len(n) > 99 {
			return nil, fmt.Errorf("secret %q: not a plain file name", n)
		}
		v := b[n]
		if len(v) > maxSecretBytes {
			return nil, fmt.Errorf("secret %s is %d bytes: at most %d can be sealed", n, len(v), maxSecretBytes)
		}
		buf.Write(ustarHeader(n, len(v)))
		buf.Write(v)
		buf.Write(make([]byte, pad(len(v))))
	}
	buf.Write(make([]byte, 2*blockSize))
	return buf.Bytes(), nil
}

func pad(n int) int { return (blockSize - n%blockSize) % blockSize }

func ustarHeader(name string, size int) []byte {
	h := make([]byte, blockSize)
	copy(h[0:100], name)
	copy(h[100:108], "0000600\x00")
	copy(h[108:116], "0000000\x00")
	copy(h[116:124], "0000000\x00")
	copy(h[124:136], fmt.Sprintf("%011o\x00", size))
	copy(h[136:148], "00000000000\x00")
	h[156] = '0'
	copy(h[257:263], "ustar\x00")
	copy(h[263:265], "00")
	copy(h[148:156], fmt.Sprintf("%06o\x00 ", checksum(h)))
	return h
}

// checksum is the USTAR header sum, the checksum field counted as spaces.
func checksum(h []byte) int {
	sum := 0
	for i, c := range h {
		if i >= 148 && i < 156 {
			c = ' '
		}
		sum += int(c)
	}
	return sum
}

// UnmarshalBundle reads an archive made by MarshalBundle (or any USTAR
// archive of plain regular files). Anything else (a folder, a link, a path,
// an extended header, a duplicate, an oversized file) is an error: the
// archive decrypted with a valid key, but age does not say who wrote it, so
// its content is checked like any input.
func UnmarshalBundle(data []byte) (Bundle, error) {
	if len(data) > maxBundleBytes {
		return nil, fmt.Errorf("the sealed content is %d bytes: more than secrets can be", len(data))
	}
	b := Bundle{}
	for off := 0; ; {
		if off+blockSize > len(data) {
			return nil, errors.New("the sealed content is not a tar archive of secret files: it ends without its end marker")
		}
		h := data[off : off+blockSize]
		off += blockSize
		if isZero(h) {
			break
		}
		if string(h[257:262]) != "ustar" {
			return nil, errors.New("the sealed content is not a tar archive of secret files (no ustar header)")
		}
		want, err := octal(h[148:156])
		if err != nil || want != checksum(h) {
			return nil, errors.New("the sealed content is not a tar archive of secret files (bad header checksum)")
		}
		name := cstring(h[0:100])
		if h[156] != '0' && h[156] != 0 {
			return nil, fmt.Errorf("the sealed content holds %q, which is not a regular file", name)
		}
		if h[345] != 0 || !nameRE.MatchString(name) {
			return nil, fmt.Errorf("the sealed content holds %q, which is not a plain secret file name", name)
		}
		if _, dup := b[name]; dup {
			return nil, fmt.Errorf("the sealed content holds %s twice", name)
		}
		size, err := octal(h[124:136])
		if err != nil {
			return nil, fmt.Errorf("the sealed %s has a bad size field", name)
		}
		if size > maxSecretBytes {
			return nil, fmt.Errorf("the sealed %s is %d bytes: more than a secret can be", name, size)
		}
		if len(b) >= maxSecrets {
			return nil, fmt.Errorf("the sealed content holds more than %d files", maxSecrets)
		}
		if off+size > len(data) {
			return nil, fmt.Errorf("the sealed %s is cut short", name)
		}
		b[name] = append([]byte(nil), data[off:off+size]...)
		off += size + pad(size)
	}
	if len(b) == 0 {
		return nil, errors.New("the sealed content holds no secret")
	}
	return b, nil
}

func isZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

func cstring(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}

// octal reads a NUL- or space-terminated octal field.
func octal(b []byte) (int, error) {
	s := strings.TrimRight(strings.TrimLeft(cstring(b), " "), " ")
	if s == "" {
		return 0, errors.New("empty")
	}
	n, err := strconv.ParseInt(s, 8, 64)
	if err != nil || n < 0 || n > maxBundleBytes {
		return 0, errors.New("bad octal")
	}
	return int(n), nil
}
