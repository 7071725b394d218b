package cli

import (
	"bufio"
	"fmt"
	"strings"

	"github.com/claire-de-binare/cdb-setup/internal/exitcode"
	"github.com/claire-de-binare/cdb-setup/internal/step"
)

// confirmYes asks a yes/no question on the terminal. Only --yes answers
// yes; where cdb-setup cannot ask (--no-input, no terminal, CI, --json) the
// error names the flag (exit 3), so --no-input never confirms a deletion.
func confirmYes(f *Factory, q string) (bool, error) {
	if f.Global.Yes {
		return true, nil
	}
	if !f.CanPrompt() {
		return false, exitcode.New(exitcode.Environment, step.WithFix(
			fmt.Errorf("%q needs a confirmation and cdb-setup cannot ask (%s): nothing was deleted", q, whyNoPrompt(f)),
			"pass --yes to confirm"))
	}
	fmt.Fprintf(f.IO.ErrOut, "%s [y/N] ", q)
	line, err := bufio.NewReader(f.IO.In).ReadString('\n')
	if err != nil && line == "" {
		return false, nil
	}
	a := strings.ToLower(strings.TrimSpace(line))
	return a == "y" || a == "yes", nil
}
