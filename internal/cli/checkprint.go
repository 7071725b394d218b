package cli

import (
	"fmt"
	"io"

	"github.com/claire-de-binare/cdb-setup/internal/checks"
)

// checkIcons are the check vocabulary's marks, the same in every command.
var checkIcons = map[checks.Status]string{checks.OK: "✓", checks.Warn: "!", checks.Fail: "✗", checks.Skip: "-", checks.Info: "•"}

// printCheck is the one printer of a check line (up's preflight and
// post-start checks, down's preflight, doctor): two spaces, the mark
// (✓ ! ✗ - •), "Title: detail"; below it, indented by four, "fix: " and the
// exact command.
// A line without a title (post-start checks, whose detail names the
// service) is the detail alone. The fix is shown for everything but ✓.
func printCheck(w io.Writer, o checks.Outcome) {
	icon, ok := checkIcons[o.Status]
	if !ok {
		icon = "?"
	}
	if o.Title != "" {
		fmt.Fprintf(w, "  %s %s: %s\n", icon, o.Title, o.Detail)
	} else {
		fmt.Fprintf(w, "  %s %s\n", icon, o.Detail)
	}
	if o.Fix != "" && o.Status != checks.OK {
		fmt.Fprintf(w, "    fix: %s\n", o.Fix)
	}
}
