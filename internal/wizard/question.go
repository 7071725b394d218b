package wizard

import (
	"github.com/charmbracelet/huh"
)

type questionKind int

const (
	kindInput questionKind = iota
	kindSelect
	kindMulti
	kindConfirm
)

type option struct{ label, value string }

// question is one setup question, independent of how it is shown: field
// renders it for the terminal form, lineAsker asks it line by line. Exactly
// one of text, choice, choices, yes is set (by kind).
type question struct {
	kind  questionKind
	title string
	// why is the one-line explanation under the title; tuiHint is added to
	// it only in the terminal form (key hints a screen reader does not need).
	why, tuiHint string
	options      []option
	text         *string
	choice       *string
	choices      *[]string
	yes          *bool
	// yesLabel and noLabel name a confirm's buttons (default Yes and No).
	yesLabel, noLabel string
	secret            bool
	validate          func(string) error
	// aliases are words a select also takes in line mode (y, n, e on the
	// plan), mapped to an option's value.
	aliases map[string]string
	// skip hides the question (the credentials unless wanted).
	skip func() bool
}

func (q *question) hidden() bool { return q.skip != nil && q.skip() }

func (q *question) labels() (string, string) {
	y, n := q.yesLabel, q.noLabel
	if y == "" {
		y = "Yes"
	}
	if n == "" {
		n = "No"
	}
	return y, n
}

// field is the question as a huh field for the terminal form.
func (q *question) field() huh.Field {
	desc := q.why + q.tuiHint
	switch q.kind {
	case kindSelect:
		opts := make([]huh.Option[string], len(q.options))
		for i, o := range q.options {
			opts[i] = huh.NewOption(o.label, o.value)
		}
		return huh.NewSelect[string]().Title(q.title).Description(desc).Options(opts...).Value(q.choice)
	case kindMulti:
		opts := make([]huh.Option[string], len(q.options))
		for i, o := range q.options {
			opts[i] = huh.NewOption(o.label, o.value)
		}
		return huh.NewMultiSelect[string]().Title(q.title).Description(desc).Options(opts...).Value(q.choices)
	case kindConfirm:
		y, n := q.labels()
		return huh.NewConfirm().Title(q.title).Description(desc).Affirmative(y).Negative(n).Value(q.yes)
	}
	in := huh.NewInput().Title(q.title).Description(desc).Value(q.text)
	if q.secret {
		in = in.EchoMode(huh.EchoModePassword)
	}
	if q.validate != nil {
		in = in.Validate(q.validate)
	}
	return in
}
