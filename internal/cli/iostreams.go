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

	// ErrSize reports ErrOut's terminal size (columns, rows); nil or 0
	// means unknown. It is asked at each redraw: the user may resize.
	ErrSize func() (cols, rows int)
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
		ErrSize: func() (int, int) {
			c, r, err := term.GetSize(int(os.Stderr.Fd()))
			if err != nil {
				return 0, 0
			}
			return c, r
		},
	}
}

// Size is ErrOut's terminal size, 0 when unknown.
func (s *IOStreams) Size() (cols, rows int) {
	if s.ErrSize == nil || !s.ErrTTY {
		return 0, 0
	}
	return s.ErrSize()
}

// Screen says how progress may be drawn on ErrOut: redraw in place
// (cursor moves) only on a terminal that is not TERM=dumb, colours only
// there and without NO_COLOR. Everywhere else progress is plain lines.
type Screen struct {
	Redraw bool
	Color  bool
}

func screenOf(io *IOStreams, env interface{ Getenv(string) string }) Screen {
	capable := io.ErrTTY && env.Getenv("TERM") != "dumb"
	return Screen{Redraw: capable, Color: capable && env.Getenv("NO_COLOR") == ""}
}

// CanPrompt reports whether a question may be asked: both ends are a
// terminal. Flags such as --no-input and the CI variable are applied by
// Options.CanPrompt on top of this.
func (s *IOStreams) CanPrompt() bool {
	return s.InTTY && s.ErrTTY
}

// termWidth is the width of the terminal w writes to, 0 when w is not a
// terminal (then nothing is wrapped: a log or a pipe gets whole lines).
func termWidth(w io.Writer) int {
	f, ok := w.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return 0
	}
	c, _, err := term.GetSize(int(f.Fd()))
	if err != nil {
		return 0
	}
	return c
}
