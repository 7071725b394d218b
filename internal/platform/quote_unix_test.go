//go:build unix

package platform

import (
	"os/exec"
	"testing"
)

// A printed command must run as printed: each argument, shown through
// ShellArg, reaches a real sh as exactly one unchanged word.
func TestShellArgRoundTripsThroughSh(t *testing.T) {
	for _, s := range []string{
		"/home/ana/cdb", "C:/Users/ana", "a b", "it's", `"$HOME"`, "`id`", "a;b", "x&y", "*", "~", "",
		"tab\there", "back\\slash", "new\nline", "ümlaut", "-n",
	} {
		out, err := exec.Command("sh", "-c", `printf '%s|' `+ShellArg(s)+` "$@"`, "sh").Output()
		if err != nil {
			t.Fatalf("%q: sh: %v", s, err)
		}
		if string(out) != s+"|" {
			t.Errorf("ShellArg(%q) = %s reached sh as %q", s, ShellArg(s), out)
		}
	}
	if got := ShellArg("/tmp/repo-1"); got != "/tmp/repo-1" {
		t.Errorf("a plain path is quoted: %s", got)
	}
}
