package wizard

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"golang.org/x/term"
)

// lineAsker asks the questions line by line (ACCESSIBLE=1, TERM=dumb): the
// title, then its explanation, then what Enter keeps, in plain text with no
// escape codes, so a screen reader reads each question in order. "back"
// returns to the previous question. huh's own accessible mode printed
// key hints ("Space toggles", "Select up to 1 options."), hid the defaults
// of number prompts and refused Enter on a multi-select.
type lineAsker struct {
	in  io.Reader
	out io.Writer
}

func newLineAsker(o FormOptions) *lineAsker { return &lineAsker{in: o.In, out: o.Out} }

// errBack: the user typed "back".
var errBack = errors.New("back")

func (l *lineAsker) ask(ctx context.Context, qs []*question) error {
	if len(qs) > 1 {
		fmt.Fprintln(l.out, "Answer each question and press Enter; Enter alone keeps the answer shown. Type back to return to the previous question.")
	}
	for i := 0; i < len(qs); {
		if qs[i].hidden() {
			i++
			continue
		}
		err := l.one(ctx, qs[i])
		if errors.Is(err, errBack) {
			j := i - 1
			for j >= 0 && qs[j].hidden() {
				j--
			}
			if j < 0 {
				fmt.Fprintln(l.out, "This is the first question.")
				continue
			}
			i = j
			continue
		}
		if err != nil {
			return err
		}
		i++
	}
	return nil
}

func (l *lineAsker) one(ctx context.Context, q *question) error {
	fmt.Fprintln(l.out)
	fmt.Fprintln(l.out, q.title)
	if q.why != "" {
		fmt.Fprintln(l.out, q.why)
	}
	for i, o := range q.options {
		fmt.Fprintf(l.out, "  %d. %s\n", i+1, o.label)
	}
	for {
		fmt.Fprint(l.out, l.prompt(q))
		line, err := l.readLine(ctx, q.secret)
		if err != nil {
			return err
		}
		line = strings.TrimSpace(line)
		if strings.EqualFold(line, "back") {
			return errBack
		}
		if err := l.take(q, line); err != nil {
			fmt.Fprintf(l.out, "Invalid: %v\n", err)
			continue
		}
		return nil
	}
}

// prompt says what to type and what Enter keeps.
func (l *lineAsker) prompt(q *question) string {
	switch q.kind {
	case kindSelect:
		cur := 0
		for i, o := range q.options {
			if o.value == *q.choice {
				cur = i
			}
		}
		return fmt.Sprintf("Type a number from 1 to %d; Enter keeps %d (%s): ", len(q.options), cur+1, q.options[cur].value)
	case kindMulti:
		chosen := "none"
		if len(*q.choices) > 0 {
			chosen = strings.Join(*q.choices, ", ")
		}
		return fmt.Sprintf("Type the numbers to choose, separated by spaces, or 0 for none; Enter keeps %s: ", chosen)
	case kindConfirm:
		y, n := q.labels()
		cur := n
		if *q.yes {
			cur = y
		}
		return fmt.Sprintf("Type y for %s or n for %s; Enter keeps %s: ", y, n, cur)
	}
	switch {
	case q.secret && *q.text != "":
		return "Type it (not shown); Enter keeps the value you gave: "
	case q.secret:
		return "Type it (not shown): "
	case *q.text != "":
		return fmt.Sprintf("Enter keeps %s: ", *q.text)
	}
	return "Type it: "
}

// take applies one typed line to the question, or says why it cannot.
func (l *lineAsker) take(q *question, line string) error {
	switch q.kind {
	case kindSelect:
		if line == "" {
			return nil
		}
		if v, ok := q.aliases[strings.ToLower(line)]; ok {
			*q.choice = v
			return nil
		}
		n, err := strconv.Atoi(line)
		if err != nil || n < 1 || n > len(q.options) {
			return fmt.Errorf("type a number from 1 to %d", len(q.options))
		}
		*q.choice = q.options[n-1].value
	case kindMulti:
		if line == "" {
			return nil
		}
		picked, err := pickNumbers(line, len(q.options))
		if err != nil {
			return err
		}
		out := []string{}
		for i, o := range q.options {
			if picked[i+1] {
				out = append(out, o.value)
			}
		}
		*q.choices = out
	case kindConfirm:
		y, n := q.labels()
		switch a := strings.ToLower(line); {
		case a == "":
		case a == "y" || a == "yes" || a == strings.ToLower(y):
			*q.yes = true
		case a == "n" || a == "no" || a == strings.ToLower(n):
			*q.yes = false
		default:
			return fmt.Errorf("type y or n")
		}
	default:
		v := line
		if v == "" {
			v = *q.text
		}
		if q.validate != nil {
			if err := q.validate(v); err != nil {
				return err
			}
		}
		*q.text = v
	}
	return nil
}

// pickNumbers parses "1 3", "1,3" or "0" (none) for n options.
func pickNumbers(line string, n int) (map[int]bool, error) {
	picked := map[int]bool{}
	for _, f := range strings.FieldsFunc(line, func(r rune) bool { return r == ' ' || r == ',' }) {
		k, err := strconv.Atoi(f)
		if err != nil || k < 0 || k > n {
			return nil, fmt.Errorf("type numbers from 1 to %d, or 0 for none", n)
		}
		if k > 0 {
			picked[k] = true
		}
	}
	return picked, nil
}

// readLine reads one line without buffering past it (a password read on
// the terminal may follow). A secret is read with echo off when In is a
// terminal. Ctrl-C (the context) ends the wait, echo restored.
func (l *lineAsker) readLine(ctx context.Context, secret bool) (string, error) {
	type res struct {
		s   string
		err error
	}
	ch := make(chan res, 1)
	f, isFile := l.in.(*os.File)
	if secret && isFile && term.IsTerminal(int(f.Fd())) {
		fd := int(f.Fd())
		saved, err := term.GetState(fd)
		if err != nil {
			return "", fmt.Errorf("read the terminal's mode: %w", err)
		}
		go func() {
			b, err := term.ReadPassword(fd)
			ch <- res{string(b), err}
		}()
		select {
		case r := <-ch:
			fmt.Fprintln(l.out) // the Enter was not echoed
			return r.s, readErr(r.err)
		case <-ctx.Done():
			_ = term.Restore(fd, saved)
			return "", ErrAborted
		}
	}
	go func() {
		var b strings.Builder
		one := make([]byte, 1)
		for {
			n, err := l.in.Read(one)
			if n == 1 {
				if one[0] == '\n' {
					ch <- res{strings.TrimSuffix(b.String(), "\r"), nil}
					return
				}
				b.WriteByte(one[0])
			}
			if err != nil {
				ch <- res{b.String(), err}
				return
			}
		}
	}()
	select {
	case r := <-ch:
		return r.s, readErr(r.err)
	case <-ctx.Done():
		return "", ErrAborted
	}
}

// readErr: the end of input (Ctrl-D) leaves the questions like Ctrl-C.
func readErr(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, io.EOF) {
		return ErrAborted
	}
	return fmt.Errorf("reading the answer: %w", err)
}
