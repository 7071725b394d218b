package cli

import (
	"io"
	"os"

	"golang.org/x/term"
)

// IOStreams holds the process's streams and what we know about them.
// Reports (help, doctor, status and check commands; Factory.reportOut) and
// machine output (--json) go to Out; progress, prompts and errors go to
// ErrOut.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer

	InTTY  bool
	OutTTY bool
	ErrTTY bool
}

// System returns the real streams of this process.
func System() *IOStreams {
	return &IOStreams{
		In:     os.Stdin,
		Out:    os.Stdout,
		ErrOut: os.Stderr,
		InTTY:  term.IsTerminal(int(os.Stdin.Fd())),
		OutTTY: term.IsTerminal(int(os.Stdout.Fd())),
		ErrTTY: term.IsTerminal(int(os.Stderr.Fd())),
	}
}

// CanPrompt reports whether a question may be asked: both ends are a
// terminal. Flags such as --no-input and the CI variable are applied by
// Options.CanPrompt on top of this.
func (s *IOStreams) CanPrompt() bool {
	return s.InTTY && s.ErrTTY
}
