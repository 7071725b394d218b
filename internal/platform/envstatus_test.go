package platform

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestFindAssignments(t *testing.T) {
	home := "/home/u"
	content := "export SECRETS_PATH=~/.secrets/.cdb\n" +
		"SECRETS_PATH=\"$HOME/Documents/x y\"\r\n" +
		"  set -gx SECRETS_PATH '/fish/it\\'s'\n" +
		"setenv SECRETS_PATH /csh\n" +
		"export SECRETS_PATH=\"$(pwd)/x\"\n" +
		"echo SECRETS_PATH=/not\n" +
		BlockBegin + "\nexport SECRETS_PATH='/ours' # managed by cdb-setup\n" + BlockEnd + "\n" +
		"declare -x SECRETS_PATH=${HOME}/d\n"
	got := FindAssignments([]byte(content), home)
	want := []Assignment{
		{Line: 1, Value: "/home/u/.secrets/.cdb", Known: true},
		{Line: 2, Value: "/home/u/Documents/x y", Known: true},
		{Line: 3, Value: "/fish/it's", Known: true},
		{Line: 4, Value: "/csh", Known: true},
		{Line: 5, Known: false},
		{Line: 8, Value: "/ours", Known: true, Managed: true},
		{Line: 10, Value: "/home/u/d", Known: true},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d assignments: %+v", len(got), got)
	}
	for i, w := range want {
		g := got[i]
		if g.Line != w.Line || g.Known != w.Known || g.Managed != w.Managed || (w.Known && g.Value != w.Value) {
			t.Errorf("line %d: got %+v, want %+v", w.Line, g, w)
		}
	}
}

// FuzzFindAssignments: status reads arbitrary user files; it must never
// panic, and every line number it reports must exist.
func FuzzFindAssignments(f *testing.F) {
	f.Add([]byte("export SECRETS_PATH=\"$HOME/x\"\n"))
	f.Add([]byte("SECRETS_PATH='a\nset -x SECRETS_PATH \"\\"))
	f.Add([]byte(BlockBegin + "\r\nSECRETS_PATH=~\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		lines := strings.Count(string(b), "\n") + 1
		for _, a := range FindAssignments(b, "/home/u") {
			if a.Line < 1 || a.Line > lines {
				t.Fatalf("line %d out of range 1..%d", a.Line, lines)
			}
			if utf8.ValidString(string(b)) && !utf8.ValidString(a.Value) {
				t.Fatalf("invalid UTF-8 value from valid input")
			}
		}
	})
}
