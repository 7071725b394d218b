package cli

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/claire-de-binare/cdb-setup/internal/platform"
)

// `cdb-setup completion <shell>` is sourced by shells, so the script must be
// on stdout and nothing else on stderr.
func TestCompletionScriptGoesToStdout(t *testing.T) {
	for _, shell := range []string{"bash", "zsh", "fish", "powershell"} {
		var out, errOut bytes.Buffer
		io := &IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}
		code := Main(context.Background(), []string{"completion", shell}, io, platform.MapEnvironment{})
		if code != 0 {
			t.Fatalf("%s: exit %d, stderr %q", shell, code, errOut.String())
		}
		if !strings.Contains(out.String(), "cdb-setup") {
			t.Errorf("%s: no completion script on stdout (%d bytes)", shell, out.Len())
		}
		if errOut.Len() != 0 {
			t.Errorf("%s: unexpected stderr: %.200q", shell, errOut.String())
		}
	}
}
