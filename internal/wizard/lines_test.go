package wizard

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/claire-de-binare/cdb-setup/internal/platform"
)

// The line-by-line questions (ACCESSIBLE=1, TERM=dumb) from typed lines:
// the title before its explanation, Enter keeps what is shown (also on a
// multi-select), "back" returns to the previous question, bad input is
// explained and asked again. The terminal itself is covered by the pty
// tests in internal/cli; here the input is a plain reader.
func TestLineQuestions(t *testing.T) {
	home := filepath.Dir(absDir) // only for ~ (nothing is written)
	in := strings.NewReader(strings.Join([]string{
		"",      // folder: Enter keeps the default
		"3",     // profile: out of range
		"2",     // profile: prod
		"",      // overlays: Enter keeps none
		"back",  // at the persist question: back to the overlays
		"x 2",   // not numbers
		"2 1",   // logging and strict-health
		"",      // persist: Enter keeps shells
		"maybe", // hook: neither y nor n
		"n",     // hook: no
		"yes",   // start
	}, "\n") + "\n")
	var out bytes.Buffer
	o := FormOptions{In: in, Out: &out, Accessible: true, Facts: platform.Facts{OS: runtime.GOOS, Home: home},
		Offer:    Offer{Profiles: []string{"dev", "prod"}, Overlays: []string{"logging", "strict-health"}, Persist: true, PersistTargets: []string{PersistShells, PersistGUI}, Hook: true, Start: true},
		Defaults: Answers{SecretsPath: absDir, Persist: []string{PersistShells}}}
	a, err := Ask(context.Background(), o)
	if err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if a.SecretsPath != absDir || a.Profile != "prod" || strings.Join(a.Overlays, ",") != "logging,strict-health" ||
		strings.Join(a.Persist, ",") != PersistShells || *a.Hook || !*a.Start {
		t.Errorf("answers %+v\n%s", a, out.String())
	}
	text := out.String()
	for _, want := range []string{
		"Secrets folder\nCompose mounts every secret",
		"Enter keeps " + absDir + ": ",
		"Type a number from 1 to 2; Enter keeps 1 (dev): Invalid: type a number from 1 to 2\n",
		"Overlays (optional)\nExtra compose files on top of the profile; none is fine for a first start.\n  1. logging",
		"Enter keeps none: ",
		"Invalid: type numbers from 1 to 2, or 0 for none",
		"Enter keeps shells: ",
		"Type y for Yes or n for No; Enter keeps Yes: Invalid: type y or n",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("missing %q in:\n%s", want, text)
		}
	}
	if n := strings.Count(text, "Overlays (optional)"); n != 2 {
		t.Errorf("the overlays were asked %d times, want 2 (once more after back):\n%s", n, text)
	}
	for _, noise := range []string{"Space toggles", "Select up to", "\x1b"} {
		if strings.Contains(text, noise) {
			t.Errorf("%q in line mode", noise)
		}
	}
}

// The plan's question in line mode: y, e, n and numbers.
func TestLinePlanChoice(t *testing.T) {
	for line, want := range map[string]error{"\n": nil, "y\n": nil, "e\n": ErrEditAnswers, "2\n": ErrEditAnswers, "n\n": nil, "": ErrAborted} {
		var out bytes.Buffer
		ok, err := Confirm(context.Background(), FormOptions{In: strings.NewReader(line), Out: &out, Accessible: true}, "Apply these 3 change(s)?", "Nothing has changed yet.", true)
		if !errors.Is(err, want) || want == nil && err != nil {
			t.Errorf("%q: %v, want %v", line, err, want)
		}
		if wantOK := line == "\n" || line == "y\n"; ok != wantOK {
			t.Errorf("%q: apply=%v", line, ok)
		}
	}
}

// NO_COLOR: the selected button is marked with brackets, the other not,
// and neither carries an escape sequence.
func TestThemeNoColorMarksTheSelection(t *testing.T) {
	th := ThemeNoColor()
	on, off := th.Focused.FocusedButton.Render("Yes"), th.Focused.BlurredButton.Render("No")
	if !strings.Contains(on, "[Yes]") || strings.Contains(off, "[") || strings.Contains(on+off, "\x1b") {
		t.Errorf("focused %q, blurred %q", on, off)
	}
}

func FuzzPickNumbers(f *testing.F) {
	for _, s := range []string{"1 2", "0", "1,2", "", "9", "-1", "1  ,, 2"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		picked, err := pickNumbers(line, 3)
		if err != nil {
			return
		}
		for k := range picked {
			if k < 1 || k > 3 {
				t.Fatalf("%q picked %d", line, k)
			}
		}
	})
}
