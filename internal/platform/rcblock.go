package platform

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
)

// Block is a managed block in a user's file (a shell rc file, a compose .env):
// a begin marker line, body lines, an end marker line. Everything between
// the markers belongs to cdb-setup; everything outside is the user's and is
// never touched, byte for byte.
type Block struct {
	Begin string   // e.g. "# >>> cdb-setup SECRETS_PATH >>>"
	End   string   // e.g. "# <<< cdb-setup SECRETS_PATH <<<"
	Body  []string // lines without line endings
}

// ErrBlockMarkers is wrapped by every refusal to edit a file whose markers
// are not exactly one begin followed by one end: we never guess which part a
// user meant to keep.
var ErrBlockMarkers = errors.New("managed block markers are damaged")

// span is the byte range of the block in a file: from the start of the
// begin marker line to the end of the end marker line (including its line
// ending, if it has one).
type span struct {
	start, end int
	found      bool
	// endHasNewline is false when the end marker is the file's last line and
	// has no line ending. Upsert writes that only when the original file had
	// no final newline, so Remove can restore exactly that.
	endHasNewline bool
	// beginEOL is the begin marker line's ending: the block's own convention,
	// which also tells Remove what separator Upsert put in front of it.
	beginEOL string
}

// line is one line of a file with its offsets; text excludes the line ending.
type line struct {
	start, next int // next is the offset after the line ending
	text        string
	lineNo      int
}

func splitLines(content []byte) []line {
	var out []line
	pos, n := 0, 1
	for pos < len(content) {
		i := bytes.IndexByte(content[pos:], '\n')
		var l line
		if i < 0 {
			l = line{start: pos, next: len(content), text: string(content[pos:])}
		} else {
			l = line{start: pos, next: pos + i + 1, text: string(content[pos : pos+i])}
		}
		l.text = strings.TrimSuffix(l.text, "\r")
		l.lineNo = n
		out = append(out, l)
		pos = l.next
		n++
	}
	return out
}

// isMarker: a marker matches with surrounding blanks ignored, so a user who
// indented our block (inside an if, say) still gets it removed cleanly.
func isMarker(text, marker string) bool {
	return strings.TrimSpace(text) == marker
}

func findBlock(content []byte, b Block) (span, error) {
	if b.Begin == "" || b.End == "" || b.Begin == b.End {
		return span{}, errors.New("block markers must be two different non-empty lines")
	}
	var s span
	begin, end := -1, -1
	for _, l := range splitLines(content) {
		switch {
		case isMarker(l.text, b.Begin):
			if begin >= 0 {
				return s, fmt.Errorf("%w: a second %q on line %d (the first is on line %d); remove one of the blocks by hand", ErrBlockMarkers, b.Begin, l.lineNo, begin)
			}
			if end >= 0 {
				return s, fmt.Errorf("%w: %q on line %d comes after %q on line %d; fix the block by hand", ErrBlockMarkers, b.Begin, l.lineNo, b.End, end)
			}
			begin = l.lineNo
			s.start = l.start
			s.beginEOL = "\n"
			if bytes.HasSuffix(content[l.start:l.next], []byte("\r\n")) {
				s.beginEOL = "\r\n"
			}
		case isMarker(l.text, b.End):
			if end >= 0 {
				return s, fmt.Errorf("%w: a second %q on line %d (the first is on line %d); remove one of the blocks by hand", ErrBlockMarkers, b.End, l.lineNo, end)
			}
			if begin < 0 {
				return s, fmt.Errorf("%w: %q on line %d has no %q before it; fix the block by hand", ErrBlockMarkers, b.End, l.lineNo, b.Begin)
			}
			end = l.lineNo
			s.end = l.next
			s.endHasNewline = l.next > 0 && content[l.next-1] == '\n'
		}
	}
	if begin >= 0 && end < 0 {
		return s, fmt.Errorf("%w: %q on line %d is never closed by %q; fix the block by hand", ErrBlockMarkers, b.Begin, begin, b.End)
	}
	s.found = begin >= 0
	return s, nil
}

// lineEnding is the file's dominant convention, so our block does not mix
// LF lines into a CRLF file (or the reverse).
func lineEnding(content []byte) string {
	lf := bytes.Count(content, []byte("\n"))
	crlf := bytes.Count(content, []byte("\r\n"))
	if crlf > 0 && crlf*2 >= lf {
		return "\r\n"
	}
	return "\n"
}

func render(b Block, eol string, finalNewline bool) []byte {
	var buf bytes.Buffer
	lines := append(append([]string{b.Begin}, b.Body...), b.End)
	for i, l := range lines {
		buf.WriteString(l)
		if i < len(lines)-1 || finalNewline {
			buf.WriteString(eol)
		}
	}
	return buf.Bytes()
}

// HasBlock reports whether content holds the block (by its markers).
func HasBlock(content []byte, b Block) (bool, error) {
	s, err := findBlock(content, b)
	return s.found, err
}

// Upsert returns content with the block added (at the end) or replaced (in
// place). It keeps the file's line endings and adds a newline only where the
// file lacked a final one. Remove(Upsert(x)) == x byte for byte for any x
// without the block: when x has no final newline, the block is appended after
// a newline and itself ends without one, which tells Remove to take that
// newline away again.
func Upsert(content []byte, b Block) ([]byte, error) {
	for _, l := range append(append([]string{b.Begin}, b.Body...), b.End) {
		if strings.ContainsAny(l, "\r\n") {
			return nil, errors.New("block lines must not contain line breaks")
		}
	}
	for _, l := range b.Body {
		if isMarker(l, b.Begin) || isMarker(l, b.End) {
			return nil, errors.New("block body must not contain a marker line")
		}
	}
	s, err := findBlock(content, b)
	if err != nil {
		return nil, err
	}
	if s.found {
		// Replace in place, keeping the old block's line endings and whatever
		// its end looked like, so Remove still restores the original file.
		var out []byte
		out = append(out, content[:s.start]...)
		out = append(out, render(b, s.beginEOL, s.endHasNewline)...)
		return append(out, content[s.end:]...), nil
	}
	eol := lineEnding(content)
	out := append([]byte(nil), content...)
	final := true
	if len(content) > 0 && content[len(content)-1] != '\n' {
		out = append(out, eol...)
		final = false
	}
	return append(out, render(b, eol, final)...), nil
}

// Remove returns content without the block, exactly as it was before Upsert
// added it. Content without the block is returned unchanged.
func Remove(content []byte, b Block) ([]byte, error) {
	s, err := findBlock(content, b)
	if err != nil {
		return nil, err
	}
	if !s.found {
		return content, nil
	}
	start := s.start
	if !s.endHasNewline && start > 0 {
		// The block was appended to a file without a final newline: drop the
		// newline Upsert added in front of it.
		start -= len(s.beginEOL)
		if start < 0 || string(content[start:s.start]) != s.beginEOL {
			// Not what Upsert wrote (the user edited around it): keep their bytes.
			start = s.start
		}
	}
	out := append([]byte(nil), content[:start]...)
	return append(out, content[s.end:]...), nil
}
