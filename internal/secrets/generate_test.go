package secrets

import (
	"bytes"
	"strings"
	"testing"

	"github.com/claire-de-binare/cdb-setup/internal/manifest"
)

func TestGenerate(t *testing.T) {
	for _, alpha := range []string{"alnum", "hex"} {
		v, err := Generate(32, alpha)
		if err != nil || len(v) != 32 {
			t.Fatalf("%s: %d bytes, %v", alpha, len(v), err)
		}
		for _, c := range v {
			if !strings.ContainsRune(manifest.Alphabets[alpha], rune(c)) {
				t.Fatalf("%s: character outside the alphabet", alpha)
			}
		}
		if Lint("X", v, manifest.Secret{Kind: manifest.KindGenerated, Length: 32, Alphabet: alpha}) != nil {
			t.Fatalf("%s: generated value does not lint clean", alpha)
		}
	}
	a, _ := Generate(32, "alnum")
	b, _ := Generate(32, "alnum")
	if bytes.Equal(a, b) {
		t.Fatal("two generated values are equal")
	}
	if _, err := Generate(32, "nope"); err == nil {
		t.Fatal("unknown alphabet accepted")
	}
}

// TestGenerateRejectsBiasedBytes feeds every byte value once: with 62
// characters, bytes 248..255 must be rejected (248 = 4*62), so exactly 248
// characters come out and each character exactly 4 times.
func TestGenerateRejectsBiasedBytes(t *testing.T) {
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	chars := manifest.Alphabets["alnum"]
	// The reader hands out the 256 bytes, then fails: asking for exactly 248
	// characters must succeed using every byte once.
	r := &onceReader{data: all}
	out, err := generateFrom(r, 248, chars)
	if err != nil {
		t.Fatal(err)
	}
	count := map[byte]int{}
	for _, c := range out {
		count[c]++
	}
	for i := 0; i < len(chars); i++ {
		if count[chars[i]] != 4 {
			t.Fatalf("character %d drawn %d times, want 4 (bias)", i, count[chars[i]])
		}
	}
}

// onceReader serves data in the chunk sizes asked for, then zero-pads is
// never needed: generateFrom asks len+len/4+8 bytes; we cycle the data.
type onceReader struct {
	data []byte
	off  int
}

func (r *onceReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = r.data[r.off%len(r.data)]
		r.off++
	}
	return len(p), nil
}
