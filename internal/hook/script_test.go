package hook

import (
	"bytes"
	"testing"
)

func TestParseMarker(t *testing.T) {
	cases := []struct {
		in string
		v  int
		ok bool
	}{
		{"#!/bin/sh\n# cdb-setup gitleaks hook v1 (managed)\n", 1, true},
		{"#!/bin/sh\r\n# cdb-setup gitleaks hook v12\r\n", 12, true},
		{"#!/bin/sh\n# cdb-setup gitleaks hook v\n", 0, false},
		{"#!/bin/sh\n# cdb-setup gitleaks hook v1x\n", 0, false},
		{"#!/bin/sh\n# cdb-setup gitleaks hook v0\n", 0, false},
		{"#!/bin/sh\necho hi\n", 0, false},
		{"1\n2\n3\n4\n5\n# cdb-setup gitleaks hook v1\n", 0, false},
		{"", 0, false},
	}
	for _, c := range cases {
		v, ok := ParseMarker([]byte(c.in))
		if v != c.v || ok != c.ok {
			t.Errorf("ParseMarker(%q) = %d, %v; want %d, %v", c.in, v, ok, c.v, c.ok)
		}
	}
}

func TestRenderScriptBytes(t *testing.T) {
	for _, p := range []string{"/usr/local/bin/gitleaks", `C:\Users\O'Brien\go\bin\gitleaks.exe`, ""} {
		b := RenderScript(p)
		if bytes.Contains(b, []byte("\r")) || bytes.HasPrefix(b, []byte{0xEF, 0xBB, 0xBF}) || !bytes.HasPrefix(b, []byte("#!/bin/sh\n")) {
			t.Errorf("bad bytes for %q", p)
		}
		if v, ok := ParseMarker(b); !ok || v != ScriptVersion {
			t.Errorf("marker not found for %q", p)
		}
	}
}

func FuzzParseMarker(f *testing.F) {
	f.Add(RenderScript("/usr/bin/gitleaks"))
	f.Add([]byte("#!/bin/sh\n# cdb-setup gitleaks hook v99999999999999999999\n"))
	f.Add([]byte("\xef\xbb\xbf#!/bin/sh\r\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		v, ok := ParseMarker(in)
		if ok && v <= 0 || !ok && v != 0 {
			t.Fatalf("ParseMarker = %d, %v", v, ok)
		}
	})
}

func FuzzRenderScriptPath(f *testing.F) {
	f.Add("/usr/local/bin/gitleaks")
	f.Add(`it's "$(rm -rf /)"`)
	f.Fuzz(func(t *testing.T, p string) {
		b := RenderScript(p)
		if v, ok := ParseMarker(b); !ok || v != ScriptVersion {
			t.Fatalf("marker lost")
		}
	})
}
