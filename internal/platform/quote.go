package platform

import (
	"errors"
	"strings"

	"github.com/claire-de-binare/cdb-setup/internal/lazyre"
)

// ShellQuote quotes s for POSIX sh, bash and zsh: single quotes keep every
// byte literal ($, `, \, spaces); a single quote itself is closed, escaped
// and reopened.
func ShellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// ShellArg is s as one sh word for a command we print: a plain word (path
// characters only) as it is, so the usual message stays readable, anything
// else through ShellQuote.
func ShellArg(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-+,:@%=") == "" {
		return s
	}
	return ShellQuote(s)
}

// FishQuote quotes s for fish: inside single quotes fish only treats \' and
// \\ specially.
func FishQuote(s string) string {
	s = strings.ReplaceAll(s, `\`, `\\`)
	return "'" + strings.ReplaceAll(s, "'", `\'`) + "'"
}

// CheckValue rejects values no persistence target can hold faithfully. A
// line break would split our managed block; NUL cannot be in an environment
// variable at all.
func CheckValue(v string) error {
	if v == "" {
		return errors.New("SECRETS_PATH must not be empty")
	}
	if strings.ContainsAny(v, "\r\n\x00") {
		return errors.New("SECRETS_PATH must not contain a line break or NUL: pass a plain folder path with --secrets-path")
	}
	return nil
}

// environmentDValue renders v for systemd's environment.d, which expands
// $VAR and ${VAR} and strips quotes and backslashes. Rather than trusting an
// escape through two parsing passes, values that would need one are refused.
func environmentDValue(v string) (string, error) {
	if strings.ContainsAny(v, "$\\\"'`") {
		return "", errors.New("environment.d cannot hold a SECRETS_PATH containing $, \\, quotes or backticks faithfully: choose a plain folder path or leave out --gui")
	}
	return v, nil
}

// composeEnvValue renders v for a compose .env file: single quotes keep the
// value literal (no ${} interpolation); compose has no escape for a single
// quote inside them, so such a value is refused.
func composeEnvValue(v string) (string, error) {
	if strings.Contains(v, "'") {
		return "", errors.New("a compose .env file cannot hold a SECRETS_PATH containing a single quote: choose another folder or leave out --compose-env")
	}
	return "'" + v + "'", nil
}

var windowsVarRef = lazyre.New(`%[A-Za-z_][A-Za-z0-9_()]*%`)

// NeedsExpandSZ is true when a Windows value refers to another variable
// (%USERPROFILE%\...): only then is REG_EXPAND_SZ right. A literal path is
// REG_SZ, so a '%' in a folder name is never expanded by accident.
func NeedsExpandSZ(v string) bool {
	return windowsVarRef().MatchString(v)
}
