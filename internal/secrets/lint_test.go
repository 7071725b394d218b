package secrets

import (
	"bytes"
	"testing"
	"unicode/utf16"

	"github.com/claire-de-binare/cdb-setup/internal/manifest"
)

var (
	genPolicy = manifest.Secret{Kind: manifest.KindGenerated, Length: 32, Alphabet: "alnum"}
	optPolicy = manifest.Secret{Kind: manifest.KindExternal, Optional: true}
	reqPolicy = manifest.Secret{Kind: manifest.KindExternal}
)

const goodPW = "abcdefghijklmnopqrstuvwxyz012345"

func utf16le(s string, bom bool) []byte {
	var b []byte
	if bom {
		b = append(b, 0xFF, 0xFE)
	}
	for _, u := range utf16.Encode([]rune(s)) {
		b = append(b, byte(u), byte(u>>8))
	}
	return b
}

func codes(ps []Problem) map[string]Problem {
	m := map[string]Problem{}
	for _, p := range ps {
		m[p.Code] = p
	}
	return m
}

func TestLint(t *testing.T) {
	cases := []struct {
		name    string
		data    []byte
		policy  manifest.Secret
		want    []string // codes that must be reported
		fixable bool     // Normalize must then succeed and yield goodPW (when want has errors)
	}{
		{"clean", []byte(goodPW), genPolicy, nil, false},
		{"crlf", []byte(goodPW + "\r\n"), genPolicy, []string{CodeCRLF}, true},
		{"lf", []byte(goodPW + "\n"), genPolicy, []string{CodeTrailingLF}, true},
		{"bom", append([]byte("\xef\xbb\xbf"), goodPW...), genPolicy, []string{CodeBOM}, true},
		{"utf16 bom", utf16le(goodPW+"\r\n", true), genPolicy, []string{CodeUTF16, CodeCRLF}, true},
		{"utf16 no bom", utf16le(goodPW, false), genPolicy, []string{CodeUTF16}, true},
		{"nul", []byte("abc\x00def"), reqPolicy, []string{CodeNUL}, false},
		{"inner cr", []byte("abc\rdef"), reqPolicy, []string{CodeCR}, false},
		{"inner lf", []byte("abc\ndef"), reqPolicy, []string{CodeInnerLF}, false},
		{"leading space", []byte("  " + goodPW), genPolicy, []string{CodeWhitespace}, true},
		{"trailing tab", []byte(goodPW + "\t"), genPolicy, []string{CodeWhitespace}, true},
		{"empty required", nil, genPolicy, []string{CodeEmpty}, false},
		{"empty optional", nil, optPolicy, []string{CodeUnconfigured}, false},
		{"base64 legacy", []byte("abc/def+ghijklmnopqrstuvwxyz0123"), genPolicy, []string{CodeAlphabet}, false},
		{"short", []byte("abc"), genPolicy, []string{CodeShort}, false},
		{"invalid utf8", []byte("abc\xffdef"), reqPolicy, []string{CodeInvalidUTF8}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ps := Lint("X", c.data, c.policy)
			got := codes(ps)
			for _, w := range c.want {
				if _, ok := got[w]; !ok {
					t.Errorf("missing %s; got %v", w, keys(got))
				}
			}
			if len(c.want) == 0 && len(ps) > 0 {
				t.Errorf("clean value reported %v", keys(got))
			}
			for _, p := range ps {
				if len(c.data) >= 8 && bytes.Contains([]byte(p.Message), c.data) {
					t.Errorf("%s: message contains the value", p.Code)
				}
			}
			if c.fixable {
				for _, p := range ps {
					if p.Severity == SevError && !p.Fixable {
						t.Errorf("%s should be fixable", p.Code)
					}
				}
				fixed, err := Normalize(c.data)
				if err != nil || !bytes.Equal(fixed, []byte(goodPW)) {
					t.Errorf("Normalize: err %v, got %d bytes, want the clean %d", err, len(fixed), len(goodPW))
				}
			}
		})
	}
}

func keys(m map[string]Problem) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestNormalizeEnvValue(t *testing.T) {
	for _, c := range []struct {
		in   string
		want string
		ok   bool
	}{
		{goodPW, goodPW, true},
		{goodPW + "\n", goodPW, true},
		{goodPW + "\n\n", "", false},
		{goodPW + "\r\n", "", false},
		{"", "", true},
		{" " + goodPW, "", false},
		{"a\nb", "", false},
	} {
		got, err := NormalizeEnvValue(c.in)
		if (err == nil) != c.ok || c.ok && string(got) != c.want {
			t.Errorf("input of %d bytes: err %v, got %d bytes", len(c.in), err, len(got))
		}
	}
}

func TestNormalizeInputFile(t *testing.T) {
	for in, ok := range map[string]bool{goodPW: true, goodPW + "\n": true, goodPW + "\r\n": true, "\xef\xbb\xbf" + goodPW + "\n": true, goodPW + "\n\n": false, "a\rb": false} {
		got, err := NormalizeInputFile([]byte(in))
		if (err == nil) != ok || ok && string(got) != goodPW {
			t.Errorf("input of %d bytes: err %v, got %d bytes", len(in), err, len(got))
		}
	}
}

// FuzzLint: Lint never panics, and whenever every error it reports is
// fixable, Normalize yields a value that lints clean of byte-rule errors.
func FuzzLint(f *testing.F) {
	for _, s := range []string{goodPW, goodPW + "\r\n", "\xef\xbb\xbfpw", " x ", "", "\x00", "\xff\xfea\x00"} {
		f.Add([]byte(s), false)
	}
	f.Add(utf16le("pw\r\n", true), true)
	f.Fuzz(func(t *testing.T, data []byte, optional bool) {
		pol := manifest.Secret{Kind: manifest.KindExternal, Optional: optional}
		ps := Lint("X", data, pol)
		fixable := true
		for _, p := range ps {
			if p.Severity == SevError && !p.Fixable {
				fixable = false
			}
		}
		out, err := Normalize(data)
		if err != nil {
			return
		}
		if verr := ValidateValue(out); verr != nil {
			t.Fatalf("Normalize returned an invalid value: %v", verr)
		}
		for _, p := range Lint("X", out, pol) {
			if p.Severity == SevError && p.Code != CodeEmpty {
				t.Fatalf("normalised value still has %s (fixable=%v)", p.Code, fixable)
			}
		}
	})
}

// FuzzNormalizeEnvValue: from-env input never yields bytes that break the
// rules, and a value accepted once is a fixed point.
func FuzzNormalizeEnvValue(f *testing.F) {
	for _, s := range []string{goodPW, goodPW + "\n", "a\r\n", "", " ", "\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b, err := NormalizeEnvValue(s)
		if err != nil {
			return
		}
		if ValidateValue(b) != nil {
			t.Fatal("accepted value breaks the byte rules")
		}
		if bytes.IndexByte(b, '\r') >= 0 || bytes.HasSuffix(b, []byte("\n")) {
			t.Fatal("CR or trailing LF survived")
		}
		again, err := NormalizeEnvValue(string(b))
		if err != nil || !bytes.Equal(again, b) {
			t.Fatal("not idempotent")
		}
	})
}
