// Package lazyre compiles a regular expression on its first use instead of
// at program start: every cdb-setup command, even `version` and a
// shell-completion TAB, pays the package initialisation of everything linked
// in, while most expressions serve one rare path (diagnosing a failed start,
// reading a rc file).
package lazyre

import (
	"regexp"
	"sync"
)

// New returns a function that compiles expr once, on its first call, and
// then returns the same *regexp.Regexp. expr must compile (as with
// regexp.MustCompile: a bad literal panics, on first use).
func New(expr string) func() *regexp.Regexp {
	return sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(expr) })
}
