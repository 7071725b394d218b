// Package exitcode carries the documented process exit codes through error
// chains, so deep code can say "the environment is missing" and main maps it.
package exitcode

import (
	"context"
	"errors"
	"fmt"
)

// The exit codes documented in the README.
const (
	OK          = 0   // success
	Failed      = 1   // a check or step failed
	Usage       = 2   // usage error (bad flag, unknown command, bad argument)
	Environment = 3   // something outside us is missing: Docker, git repo, TTY and answers
	Interrupted = 130 // Ctrl-C
)

// Error attaches an exit code to an error.
type Error struct {
	Code int
	Err  error
}

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// New wraps err with code. A nil err stays nil.
func New(code int, err error) error {
	if err == nil {
		return nil
	}
	return &Error{Code: code, Err: err}
}

// Usagef is a usage error (exit 2).
func Usagef(format string, args ...any) error {
	return New(Usage, fmt.Errorf(format, args...))
}

// Environmentf is an environment-missing error (exit 3).
func Environmentf(format string, args ...any) error {
	return New(Environment, fmt.Errorf(format, args...))
}

// From returns the exit code for err: 0 for nil, the innermost attached code,
// 130 for a cancelled context, otherwise 1.
func From(err error) int {
	if err == nil {
		return OK
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	if errors.Is(err, context.Canceled) {
		return Interrupted
	}
	return Failed
}
