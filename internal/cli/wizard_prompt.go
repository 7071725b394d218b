package cli

import (
	"os"
	"strings"

	"github.com/mattn/go-isatty"

	"github.com/claire-de-binare/cdb-setup/internal/platform"
	"github.com/claire-de-binare/cdb-setup/internal/wizard"
)

func (o *WizardOptions) formOptions(s *wizardSession) wizard.FormOptions {
	f := o.F
	return wizard.FormOptions{
		In: f.IO.In, Out: f.IO.ErrOut,
		Accessible: accessibleMode(f.Env),
		NoColor:    f.Env.Getenv("NO_COLOR") != "",
		Facts:      s.Facts,
		Offer:      s.offer,
		// The folder is checked when it is given (wizard_envcheck.go).
		CheckSecretsPath: o.secretsFolderCheck(s),
	}
}

// accessibleMode: ACCESSIBLE=1 or TERM=dumb asks line by line (screen
// readers, dumb terminals). Only ever used with a terminal: Ask is not
// called without one.
func accessibleMode(env platform.Environment) bool {
	if v := env.Getenv("ACCESSIBLE"); v != "" && v != "0" && !strings.EqualFold(v, "false") {
		return true
	}
	return env.Getenv("TERM") == "dumb"
}

func whyNoPrompt(f *Factory) string {
	switch {
	case f.Global.JSON:
		return "--json"
	case f.Global.NoInput:
		return "--no-input"
	case f.Global.Yes:
		return "--yes"
	case f.Env.Getenv("CI") != "":
		return "CI is set"
	}
	return "no terminal"
}

// minttyWithoutConsole: Git Bash's MinTTY gives programs named pipes, not
// a Windows console, so no prompt can work there; say what does instead of
// failing with "could not open a new TTY".
func minttyWithoutConsole(f *Factory) string {
	in, ok := f.IO.In.(*os.File)
	return minttyMessage(ok && !f.IO.InTTY && isatty.IsCygwinTerminal(in.Fd()), f.CanPromptIgnoringTTY())
}

// minttyMessage is the decision alone (isatty answers only on Windows).
func minttyMessage(cygwinPipe, wantsQuestions bool) string {
	if !cygwinPipe || !wantsQuestions {
		return ""
	}
	return "Git Bash (MinTTY) gives cdb-setup no Windows console, so it cannot ask its questions: run it in Windows Terminal, or as `winpty cdb-setup`; or pass --yes / --answers FILE"
}

// CanPromptIgnoringTTY is CanPrompt without the terminal test: the user did
// not ask for a run without questions.
func (f *Factory) CanPromptIgnoringTTY() bool {
	saved := *f.IO
	f.IO.InTTY, f.IO.ErrTTY = true, true
	ok := f.CanPrompt()
	*f.IO = saved
	return ok
}
