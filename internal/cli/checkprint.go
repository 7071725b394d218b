package cli

import (
	"fmt"
	"io"
	"strings"

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
	cols := termWidth(w)
	if o.Title != "" {
		fmt.Fprint(w, wrapWords(fmt.Sprintf("  %s %s: %s", icon, o.Title, o.Detail), cols, "    "))
	} else {
		fmt.Fprint(w, wrapWords(fmt.Sprintf("  %s %s", icon, o.Detail), cols, "    "))
	}
	if o.Fix != "" && o.Status != checks.OK {
		fmt.Fprint(w, wrapWords("    fix: "+o.Fix, cols, "         "))
	}
}

// printWrapped prints one formatted line, wrapped at word boundaries to
// the width of the terminal w writes to (indent before each continuation).
func printWrapped(w io.Writer, indent, format string, args ...any) {
	fmt.Fprint(w, wrapWords(fmt.Sprintf(format, args...), termWidth(w), indent))
}

// wrapWords breaks line at spaces so each piece fits in cols-1 cells (0:
// no limit), the pieces after the first indented; it never breaks inside
// a word (a word longer than the line stays whole: a path or command cut
// in two cannot be copied). Every line ends with a newline; the line's
// own newlines are kept.
func wrapWords(line string, cols int, indent string) string {
	if cols <= 0 {
		return line + "\n"
	}
	limit := max(cols-1, 20)
	var b strings.Builder
	for _, para := range strings.Split(line, "\n") {
		cur, curW := "", 0
		lead := para[:len(para)-len(strings.TrimLeft(para, " "))]
		for i, word := range strings.Fields(para) {
			ww := width(word)
			switch {
			case i == 0:
				cur, curW = lead+word, width(lead)+ww
			case curW+1+ww <= limit:
				cur += " " + word
				curW += 1 + ww
			default:
				b.WriteString(cur + "\n")
				cur, curW = indent+word, width(indent)+ww
			}
		}
		b.WriteString(cur + "\n")
	}
	return b.String()
}
