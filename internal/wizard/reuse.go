package wizard

import (
	"context"
	"fmt"
	"strings"

	"github.com/charmbracelet/huh"
)

// AskReuse offers the answers of the last setup on a re-run: one question
// instead of every one again ("Use them", the default), or "Change my
// answers" (every question, each starting from them).
func AskReuse(ctx context.Context, o FormOptions, summary string) (bool, error) {
	return YesNo(ctx, o, "Use the answers of your last setup?",
		summary+"\nChange my answers: every question again, each starting from them.", "Use them", "Change my answers", true)
}

// YesNo asks one yes/no question with its own button labels, at a
// terminal or line by line (accessible mode).
func YesNo(ctx context.Context, o FormOptions, title, why, yes, no string, def bool) (bool, error) {
	v := def
	q := &question{kind: kindConfirm, title: title, why: why, yes: &v, yesLabel: yes, noLabel: no}
	var err error
	if o.Accessible {
		err = newLineAsker(o).ask(ctx, []*question{q})
	} else {
		err = o.runForm(ctx, huh.NewForm(huh.NewGroup(q.field())))
	}
	return v, err
}

// Summary is the answers in a few lines, for AskReuse (no secret values:
// only whether external credentials were given).
func (a Answers) Summary(o Offer) string {
	var b strings.Builder
	line := func(k, v string) { fmt.Fprintf(&b, "  %-17s %s\n", k, v) }
	yesNo := func(p *bool) string {
		if p != nil && *p {
			return "yes"
		}
		return "no"
	}
	list := func(l []string) string {
		if len(l) == 0 {
			return "none"
		}
		return strings.Join(l, ", ")
	}
	line("Secrets folder", a.SecretsPath)
	if len(o.Profiles) > 0 {
		line("Profile", a.Profile)
	}
	if len(o.Overlays) > 0 {
		line("Overlays", list(a.Overlays))
	}
	if o.Keychain {
		line("Keychain mirror", yesNo(a.Keychain))
	}
	if o.Persist {
		line("SECRETS_PATH for", list(a.Persist))
	}
	if o.Hook {
		line("Pre-commit hook", yesNo(a.Hook))
	}
	if o.Start {
		line("Start the stack", yesNo(a.Start))
	}
	return strings.TrimRight(b.String(), "\n")
}
