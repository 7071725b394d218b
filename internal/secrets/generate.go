package secrets

import (
	"crypto/rand"
	"fmt"
	"io"

	"github.com/claire-de-binare/cdb-setup/internal/manifest"
)

// randReader is crypto/rand; tests replace it to exercise rejection.
var randReader io.Reader = rand.Reader

// Generate returns length characters drawn uniformly from alphabet (the
// manifest's alphabet name, e.g. "alnum") with crypto/rand.
//
// Uniform means rejection sampling: a random byte b is used only when
// b < 256 - 256%n (the largest multiple of n), then b%n picks the character.
// Plain b%n would favour the first 256%n characters (for 62 characters:
// 'A'..'H' one time in 62 more often).
func Generate(length int, alphabet string) ([]byte, error) {
	chars, ok := manifest.Alphabets[alphabet]
	if !ok {
		return nil, fmt.Errorf("unknown alphabet %q", alphabet)
	}
	return generateFrom(randReader, length, chars)
}

func generateFrom(r io.Reader, length int, chars string) ([]byte, error) {
	n := len(chars)
	if n < 2 || n > 256 {
		return nil, fmt.Errorf("an alphabet needs 2 to 256 characters, not %d", n)
	}
	if length <= 0 {
		return nil, fmt.Errorf("length %d must be positive", length)
	}
	limit := 256 - 256%n // accept b < limit; limit == 256 when n divides 256
	out := make([]byte, 0, length)
	buf := make([]byte, length+length/4+8)
	for len(out) < length {
		if _, err := io.ReadFull(r, buf); err != nil {
			return nil, fmt.Errorf("read random bytes: %w", err)
		}
		for _, b := range buf {
			if int(b) >= limit {
				continue
			}
			out = append(out, chars[int(b)%n])
			if len(out) == length {
				break
			}
		}
	}
	return out, nil
}

// GenerateFor makes a value for a generated secret's policy (default 32
// alphanumeric characters).
func GenerateFor(p manifest.Secret) ([]byte, error) {
	length, alpha := p.Length, p.Alphabet
	if length == 0 {
		length = 32
	}
	if alpha == "" {
		alpha = "alnum"
	}
	return Generate(length, alpha)
}
