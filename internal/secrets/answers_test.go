package secrets

import (
	"bytes"
	"strings"
	"testing"
)

func TestParseAnswers(t *testing.T) {
	got, err := ParseAnswers([]byte("wizard: {profile: dev}\nsecrets:\n  SMTP_USER: me@example.org\n  SMTP_PASSWORD: |\n    abcd efgh\n  MEXC_API_KEY.txt:\n"))
	if err != nil {
		t.Fatal(err)
	}
	if string(got["SMTP_USER"]) != "me@example.org" || string(got["SMTP_PASSWORD"]) != "abcd efgh" || got["MEXC_API_KEY.txt"] != nil {
		t.Fatalf("parsed %d values with wrong bytes", len(got))
	}
	for _, bad := range []string{"secrets:\n  X: \" padded \"\n", "secrets:\n  ../x: a\n", "secrets: [a]\n", "secrets:\n  X: [topsecretvalue]\n", "secrets: {X: \"a\\rb\"}\n", ": : :"} {
		_, err := ParseAnswers([]byte(bad))
		if err == nil {
			t.Errorf("accepted %q", bad)
		} else if strings.Contains(err.Error(), "topsecretvalue") || strings.Contains(err.Error(), "padded") {
			t.Errorf("error shows the value: %v", err)
		}
	}
}

// FuzzParseAnswers: never panics, every accepted value obeys the byte
// rules, and errors never quote a value longer than a few bytes.
func FuzzParseAnswers(f *testing.F) {
	f.Add([]byte("secrets:\n  SMTP_USER: me@example.org\n"))
	f.Add([]byte("secrets:\n  A: |\n    x\n"))
	f.Add([]byte("\xef\xbb\xbfsecrets: {A: b}"))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := ParseAnswers(b)
		if err != nil {
			return
		}
		for name, v := range m {
			if validName(name) != nil {
				t.Fatalf("invalid name accepted")
			}
			if ValidateValue(v) != nil || bytes.IndexByte(v, '\r') >= 0 {
				t.Fatalf("accepted value breaks the byte rules")
			}
		}
	})
}
