package secrets

import (
	"bytes"
	"errors"
	"fmt"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/claire-de-binare/cdb-setup/internal/manifest"
)

// Severity of a lint problem: an error breaks a service; a warning is worth
// knowing but the stack still works.
type Severity string

const (
	SevError   Severity = "error"
	SevWarning Severity = "warning"
)

// Problem codes, stable for --json and for doctor.
const (
	CodeCRLF         = "crlf"             // ends in \r\n (Windows tools): postgres gets "pw\r"
	CodeCR           = "cr"               // a carriage return anywhere
	CodeTrailingLF   = "trailing-newline" // ends in \n (echo): shells strip it, other readers do not
	CodeInnerLF      = "newline"          // a line break inside the value
	CodeBOM          = "bom"              // UTF-8 byte order mark (Out-File -Encoding utf8)
	CodeUTF16        = "utf16"            // UTF-16 (PowerShell 5.1 `>`)
	CodeNUL          = "nul"              // a NUL byte
	CodeInvalidUTF8  = "invalid-utf8"     // not text
	CodeWhitespace   = "whitespace"       // leading or trailing spaces/tabs
	CodeEmpty        = "empty"            // a required secret is empty
	CodeAlphabet     = "alphabet"         // a generated secret has characters outside its alphabet
	CodeShort        = "short"            // a generated secret is shorter than its policy
	CodeMissing      = "missing"          // the file does not exist
	CodeDirectory    = "directory"        // a folder where the file should be (Docker Desktop created it)
	CodeSymlink      = "symlink"          // a symbolic link where the file should be
	CodeNotRegular   = "not-regular"      // a device, pipe or socket
	CodeDSN          = "dsn-mismatch"     // a derived secret does not match its inputs
	CodeDSNUser      = "dsn-user"         // the DSN names another user than compose will use
	CodeMode         = "permissions"      // the file's mode or DACL is not what it should be
	CodeNotEnforced  = "not-enforced"     // this system does not keep private permissions (Wine, FAT)
	CodeFolder       = "folder"           // the secrets folder is not private
	CodeInWorktree   = "in-git-worktree"  // the secrets folder is inside a git work tree and not ignored
	CodeGitUnknown   = "git-unknown"      // git could not say whether it sees the secrets folder
	CodeCloudSync    = "cloud-sync"       // the secrets folder syncs to OneDrive/iCloud
	CodeUnreadable   = "unreadable"       // cannot read the file
	CodeTooLarge     = "too-large"        // larger than any secret (MaxSecretBytes): not read
	CodeUnconfigured = "not-configured"   // an optional external secret is empty (information)
	CodeDeriveFailed = "derive-failed"    // a derived secret's inputs are missing or broken
)

// Problem is one thing wrong with a secret. Messages never contain the value:
// positions and lengths only.
type Problem struct {
	Code     string   `json:"code"`
	Severity Severity `json:"severity"`
	Message  string   `json:"message"`
	// Fixable is true when `cdb-setup secrets fix` repairs it.
	Fixable bool `json:"fixable"`
}

func (p Problem) String() string { return p.Message }

var (
	bomUTF8    = []byte{0xEF, 0xBB, 0xBF}
	bomUTF16LE = []byte{0xFF, 0xFE}
	bomUTF16BE = []byte{0xFE, 0xFF}
)

// Lint checks the bytes of one secret against the byte rules (no BOM, no CR,
// no trailing newline, no surrounding whitespace, UTF-8 text) and its
// policy. It is pure: file-level checks (missing, folder, symlink, mode)
// are in CheckAll.
func Lint(name string, data []byte, policy manifest.Secret) []Problem {
	var ps []Problem
	add := func(code string, sev Severity, fixable bool, format string, a ...any) {
		ps = append(ps, Problem{Code: code, Severity: sev, Fixable: fixable, Message: name + ": " + fmt.Sprintf(format, a...)})
	}
	if len(data) == 0 {
		if policy.Kind == manifest.KindExternal && policy.Optional {
			add(CodeUnconfigured, SevWarning, false, "not configured (empty; optional)")
		} else {
			add(CodeEmpty, SevError, policy.Kind != manifest.KindExternal, "is empty but required")
		}
		return ps
	}
	if enc, ok := utf16Encoding(data); ok {
		add(CodeUTF16, SevError, true, "is UTF-16 (%s, %d bytes), as PowerShell 5.1 `>` writes it; services read garbage", enc, len(data))
		// Everything below would only describe the UTF-16 encoding.
		if dec, err := decodeUTF16(data); err == nil {
			for _, p := range Lint(name, dec, policy) {
				if p.Code != CodeEmpty && p.Code != CodeUnconfigured {
					p.Message += " (after decoding UTF-16)"
					ps = append(ps, p)
				}
			}
		}
		return ps
	}
	body := data
	if bytes.HasPrefix(body, bomUTF8) {
		add(CodeBOM, SevError, true, "starts with a UTF-8 byte order mark (Out-File -Encoding utf8); the password then has 3 invisible bytes")
		body = body[len(bomUTF8):]
	}
	if i := bytes.IndexByte(body, 0); i >= 0 {
		add(CodeNUL, SevError, false, "contains a NUL byte at offset %d", i)
	}
	switch {
	case bytes.HasSuffix(body, []byte("\r\n")):
		add(CodeCRLF, SevError, true, "ends in CRLF (\\r\\n): a service whose shell script reads the file keeps the \\r, one that strips whitespace does not, so they disagree on the password")
	case bytes.HasSuffix(body, []byte("\n")):
		add(CodeTrailingLF, SevError, true, "ends in a newline: readers that do not strip it see a different password")
	}
	trimmed := bytes.TrimRight(body, "\r\n")
	if i := bytes.IndexByte(trimmed, '\r'); i >= 0 {
		add(CodeCR, SevError, bytes.IndexByte(bytes.TrimSpace(trimmed), '\r') < 0, "contains a carriage return (\\r) at offset %d", i)
	}
	if i := bytes.IndexByte(bytes.TrimSpace(trimmed), '\n'); i >= 0 {
		add(CodeInnerLF, SevError, false, "contains a line break inside the value (a secret is one line)")
	}
	if t := bytes.TrimSpace(trimmed); len(t) != len(trimmed) {
		if len(t) == 0 {
			add(CodeWhitespace, SevError, policy.Kind != manifest.KindExternal || policy.Optional, "holds only whitespace (%d bytes)", len(trimmed))
		} else {
			add(CodeWhitespace, SevError, true, "has leading or trailing whitespace (%d bytes of it)", len(trimmed)-len(t))
		}
	}
	if !utf8.Valid(body) {
		add(CodeInvalidUTF8, SevError, false, "is not valid UTF-8 text")
	}
	if policy.Kind == manifest.KindGenerated {
		v := bytes.TrimSpace(body)
		if alpha, ok := manifest.Alphabets[policy.Alphabet]; ok {
			for i, c := range v {
				if bytes.IndexByte([]byte(alpha), c) < 0 {
					add(CodeAlphabet, SevWarning, false, "character at offset %d is outside the %s alphabet (old base64 passwords contain / and +); `cdb-setup secrets rotate %s` makes a clean one", i, policy.Alphabet, name)
					break
				}
			}
		}
		if policy.Length > 0 && len(v) < policy.Length && len(v) > 0 {
			add(CodeShort, SevWarning, false, "is %d characters long, shorter than the %d the manifest asks for", len(v), policy.Length)
		}
	}
	return ps
}

// HasErrors reports whether any problem is an error.
func HasErrors(ps []Problem) bool {
	for _, p := range ps {
		if p.Severity == SevError {
			return true
		}
	}
	return false
}

// utf16Encoding recognises UTF-16 by its BOM, or (without one) by the NUL
// bytes every ASCII character gets.
func utf16Encoding(b []byte) (string, bool) {
	switch {
	case bytes.HasPrefix(b, bomUTF16LE):
		return "little-endian with BOM", true
	case bytes.HasPrefix(b, bomUTF16BE):
		return "big-endian with BOM", true
	}
	if len(b) >= 4 && len(b)%2 == 0 {
		le, be := true, true
		for i := 0; i < len(b); i += 2 {
			if b[i] == 0 || b[i+1] != 0 {
				le = false
			}
			if b[i] != 0 || b[i+1] == 0 {
				be = false
			}
		}
		if le {
			return "little-endian", true
		}
		if be {
			return "big-endian", true
		}
	}
	return "", false
}

func decodeUTF16(b []byte) ([]byte, error) {
	be := false
	switch {
	case bytes.HasPrefix(b, bomUTF16LE):
		b = b[2:]
	case bytes.HasPrefix(b, bomUTF16BE):
		b, be = b[2:], true
	default:
		be = len(b) >= 2 && b[0] == 0
	}
	if len(b)%2 != 0 {
		return nil, errors.New("odd number of bytes for UTF-16")
	}
	u := make([]uint16, len(b)/2)
	for i := range u {
		if be {
			u[i] = uint16(b[2*i])<<8 | uint16(b[2*i+1])
		} else {
			u[i] = uint16(b[2*i+1])<<8 | uint16(b[2*i])
		}
	}
	r := utf16.Decode(u)
	out := make([]byte, 0, len(r))
	for _, c := range r {
		if c == utf8.RuneError {
			return nil, errors.New("invalid UTF-16")
		}
		out = utf8.AppendRune(out, c)
	}
	return out, nil
}

// Normalize repairs what can be repaired: UTF-16 → UTF-8, no BOM, no
// surrounding whitespace or line endings. It fails (without echoing the
// value) when what remains still breaks the byte rules: a NUL, a CR or a
// line break inside the value, invalid UTF-8.
func Normalize(data []byte) ([]byte, error) {
	if _, ok := utf16Encoding(data); ok {
		dec, err := decodeUTF16(data)
		if err != nil {
			return nil, err
		}
		data = dec
	}
	data = bytes.TrimPrefix(data, bomUTF8)
	data = bytes.TrimSpace(data)
	out := make([]byte, len(data))
	copy(out, data)
	if err := ValidateValue(out); err != nil {
		return nil, err
	}
	return out, nil
}

// ValidateValue checks the byte rules for a value about to be written: UTF-8
// text without BOM, CR, LF or NUL, and no surrounding whitespace. Empty is
// valid (an optional placeholder).
func ValidateValue(v []byte) error {
	switch {
	case bytes.HasPrefix(v, bomUTF8):
		return errors.New("the value starts with a byte order mark")
	case bytes.IndexByte(v, 0) >= 0:
		return errors.New("the value contains a NUL byte")
	case bytes.IndexByte(v, '\r') >= 0:
		return errors.New("the value contains a carriage return (\\r)")
	case bytes.IndexByte(v, '\n') >= 0:
		return errors.New("the value contains a line break")
	case !utf8.Valid(v):
		return errors.New("the value is not valid UTF-8 text")
	case len(bytes.TrimSpace(v)) != len(v):
		return errors.New("the value has leading or trailing whitespace")
	}
	return nil
}

// NormalizeEnvValue applies the from-env rules to a CI variable: one trailing
// newline (echo, heredocs) is stripped; a CR anywhere is rejected, because
// it means the value was pasted from a Windows file and we cannot know which
// bytes the user meant. No other repair is attempted: CI must fail loudly.
func NormalizeEnvValue(v string) ([]byte, error) {
	b := []byte(v)
	if bytes.IndexByte(b, '\r') >= 0 {
		return nil, errors.New("contains a carriage return (\\r): store the CI secret without Windows line endings")
	}
	b = bytes.TrimSuffix(b, []byte("\n"))
	if err := ValidateValue(b); err != nil {
		return nil, err
	}
	return b, nil
}

// NormalizeInputFile applies the rules for a value read from a file the user
// named (--set NAME=@file, stdin): a BOM and one final line ending (LF or
// CRLF, which editors add) are dropped; anything else must already be clean.
func NormalizeInputFile(b []byte) ([]byte, error) {
	b = bytes.TrimPrefix(b, bomUTF8)
	if bytes.HasSuffix(b, []byte("\r\n")) {
		b = b[:len(b)-2]
	} else {
		b = bytes.TrimSuffix(b, []byte("\n"))
	}
	out := append([]byte(nil), b...)
	if err := ValidateValue(out); err != nil {
		return nil, err
	}
	return out, nil
}
