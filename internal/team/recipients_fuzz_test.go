package team

import (
	"bytes"
	"testing"
)

// FuzzParseRecipients: any input either fails with an error or parses into
// recipients that format and parse back to the same keys and names.
func FuzzParseRecipients(f *testing.F) {
	f.Add([]byte("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHx0rGRQtr3fjGfqCwZKGMyhZr0wRA5C7QwTQd3VZ3sD alice@laptop\n"))
	f.Add([]byte("# team\n\nage1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p ci\n"))
	f.Add([]byte("\xef\xbb\xbfssh-rsa AAAA bob\r\n"))
	f.Add([]byte("hello\n"))
	f.Add([]byte("AGE-SECRET-KEY-1XYZ\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		rs, err := ParseRecipients(b)
		if err != nil {
			return
		}
		again, err := ParseRecipients(FormatRecipients(rs))
		if err != nil {
			t.Fatalf("formatted recipients do not parse: %v", err)
		}
		if len(again) != len(rs) {
			t.Fatalf("%d recipients became %d", len(rs), len(again))
		}
		for i := range rs {
			if rs[i].Key != again[i].Key || rs[i].Name != again[i].Name {
				t.Fatalf("recipient %d changed: %q %q -> %q %q", i, rs[i].Key, rs[i].Name, again[i].Key, again[i].Name)
			}
		}
		for _, r := range rs {
			out, removed, err := RemoveRecipients(b, r.Fingerprint)
			if err != nil || len(removed) == 0 {
				t.Fatalf("cannot remove a listed recipient %s: %v", r.Fingerprint, err)
			}
			if bytes.Contains(out, []byte(r.Key+" ")) {
				t.Fatalf("removed key still in the file")
			}
		}
	})
}

// FuzzUnmarshalBundle: decrypted content is checked like any input.
func FuzzUnmarshalBundle(f *testing.F) {
	good, _ := MarshalBundle(Bundle{"A": []byte("x"), "B.txt": []byte("")})
	f.Add(good)
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		bun, err := UnmarshalBundle(b)
		if err != nil {
			return
		}
		out, err := MarshalBundle(bun)
		if err != nil {
			t.Fatalf("a bundle that was read cannot be written: %v", err)
		}
		again, err := UnmarshalBundle(out)
		if err != nil || len(again) != len(bun) {
			t.Fatalf("round trip: %v", err)
		}
	})
}
