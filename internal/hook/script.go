package hook

import (
	"bufio"
	"bytes"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/claire-de-binare/cdb-setup/internal/platform"
)

// ScriptVersion is the version of the hook script this build writes. A hook
// with an older (or equal but different) script is updated in place.
//
// v2: runs `cdb-setup hook scan` (secret values, URIs with a password)
// when cdb-setup is there, gitleaks alone otherwise.
// v3: gitleaks alone no longer prints its verbose finding (whose Match and
// Line show the value whenever a rule's first group is not the value, so
// --redact masks the wrong text); the hook prints file, line and rule only.
const ScriptVersion = 3

// markerPrefix starts the line that identifies a hook as ours:
//
//	# cdb-setup gitleaks hook v1
const markerPrefix = "# cdb-setup gitleaks hook v"

// ChainedSuffix is appended to the hook's name when a foreign hook is moved
// aside: pre-commit → pre-commit.cdb-setup-chained. Ours runs it first.
const ChainedSuffix = ".cdb-setup-chained"

// ParseMarker finds our marker in the first lines of a hook file and
// returns the script version it names. ok is false for a foreign hook.
func ParseMarker(content []byte) (version int, ok bool) {
	sc := bufio.NewScanner(bytes.NewReader(content))
	sc.Buffer(make([]byte, 0, 4096), 64*1024)
	for i := 0; i < 5 && sc.Scan(); i++ {
		line := strings.TrimRight(sc.Text(), "\r")
		rest, found := strings.CutPrefix(line, markerPrefix)
		if !found {
			continue
		}
		end := 0
		for end < len(rest) && end < 6 && rest[end] >= '0' && rest[end] <= '9' {
			end++
		}
		if end == 0 || (end < len(rest) && rest[end] != ' ') {
			return 0, false
		}
		v, err := strconv.Atoi(rest[:end])
		if err != nil || v <= 0 {
			return 0, false
		}
		return v, true
	}
	return 0, false
}

// RenderScript is the native pre-commit hook: POSIX sh (so Git for Windows'
// sh runs it too), LF only, no BOM. gitleaksPath is the absolute path found
// at install time; the hook falls back to PATH when it is gone (GUI git
// clients start hooks with a different PATH than the terminal).
func RenderScript(gitleaksPath string) []byte {
	return RenderScriptWith(ScriptPaths{Gitleaks: gitleaksPath})
}

// ScriptPaths are what the native hook names: paths only, never a value.
type ScriptPaths struct {
	Gitleaks string
	// CdbSetup is this program, which runs the full check (`hook scan`);
	// the hook falls back to PATH, then to gitleaks alone, saying so.
	CdbSetup string
	// SecretsPath is the folder whose current values the scan looks for;
	// "" lets `hook scan` resolve it as every command does.
	SecretsPath string
}

// RenderScriptWith is RenderScript naming cdb-setup and the secrets folder.
func RenderScriptWith(sp ScriptPaths) []byte {
	// Git for Windows' sh understands C:/x/y; backslashes would be escapes.
	p := filepath.ToSlash(sp.Gitleaks)
	self := filepath.ToSlash(sp.CdbSetup)
	scanArgs := ""
	if sp.SecretsPath != "" {
		scanArgs = " --secrets-path " + platform.ShellQuote(filepath.ToSlash(sp.SecretsPath))
	}
	var b strings.Builder
	b.WriteString("#!/bin/sh\n")
	b.WriteString(markerPrefix + strconv.Itoa(ScriptVersion) + " (managed by cdb-setup; remove with `cdb-setup hook uninstall`)\n")
	b.WriteString(`# Blocks commits whose staged changes contain a secret. A pre-commit hook that
# was here before cdb-setup is kept next to this file as pre-commit` + ChainedSuffix + `
# and runs first; its failure still blocks the commit.

hook_dir=$(dirname "$0")
chained="$hook_dir/pre-commit` + ChainedSuffix + `"
if [ -f "$chained" ] && [ -x "$chained" ]; then
	"$chained" "$@"
	status=$?
	if [ "$status" -ne 0 ]; then
		exit "$status"
	fi
fi

gitleaks=` + platform.ShellQuote(p) + `
if [ ! -x "$gitleaks" ]; then
	gitleaks=$(command -v gitleaks 2>/dev/null)
fi
if [ -z "$gitleaks" ]; then
	echo "cdb-setup hook: gitleaks was not found (not at ` + shellEscapeDQ(p) + ` and not on PATH), so this commit cannot be checked for secrets." >&2
	echo "Install gitleaks (run: cdb-setup hook install --install-gitleaks, or see: cdb-setup hook status), then commit again." >&2
	exit 1
fi

top=$(git rev-parse --show-toplevel) || exit 1
cd "$top" || exit 1

# The full check: the current values of the secrets in the secrets folder
# (read now, compared in memory), then gitleaks with the repository's rules
# plus a rule for connection URIs with a password.
cdb_setup=` + platform.ShellQuote(self) + `
if [ ! -x "$cdb_setup" ]; then
	cdb_setup=$(command -v cdb-setup 2>/dev/null)
fi
if [ -n "$cdb_setup" ]; then
	"$cdb_setup" hook scan --gitleaks "$gitleaks"` + scanArgs + `
	exit $?
fi
echo "cdb-setup hook: cdb-setup was not found (not at ` + shellEscapeDQ(self) + ` and not on PATH): only gitleaks' rules run; the values in your secrets folder and passwords in connection URIs are NOT checked." >&2

# The repository's own rules: gitleaks only looks for .gitleaks.toml by itself.
set --
for c in .gitleaks.toml gitleaks.toml; do
	if [ -f "$c" ]; then
		set -- --config "$c"
		break
	fi
done

# gitleaks' own output is not shown: with --verbose it prints the match and
# the line, and --redact only masks what a rule calls the secret (for a rule
# whose first group is a name, the name, leaving the value in clear). Its
# JSON report goes to a file inside the git folder (which already holds the
# staged content), readable by you only and removed on exit; from it the
# hook prints file, line and rule, never Match, Secret or Line.
git_dir=$(git rev-parse --git-dir) || exit 1
report="$git_dir/cdb-setup-gitleaks-report.$$.json"
trap 'rm -f "$report"' EXIT
trap 'exit 1' HUP INT TERM
rm -f "$report"

# gitleaks 8.19 replaced "protect" with "git --pre-commit"; older versions
# lack the "git" command, so asking for its help fails there. Both write the
# JSON report (8.0+).
if "$gitleaks" git --help >/dev/null 2>&1; then
	(umask 077 && exec "$gitleaks" git --pre-commit --staged --redact --report-format json --report-path "$report" "$@")
else
	(umask 077 && exec "$gitleaks" protect --staged --redact --report-format json --report-path "$report" "$@")
fi
status=$?
if [ "$status" -ne 0 ]; then
	# One line per finding from the report, indented by encoding/json: the
	# fields of a finding are at depth 2 (array, object); a nested object
	# (Fragment) or list (Tags) is skipped. Values are JSON-escaped strings
	# on one line each, so a file's content cannot fake a field.
	found=0
	if [ -s "$report" ]; then
		awk '
			function val(line) {
				sub(/^[ \t]*"[A-Za-z]+": /, "", line)
				sub(/,[ \t]*$/, "", line)
				if (line ~ /^".*"$/) { line = substr(line, 2, length(line) - 2) }
				# The escapes a file name most likely has; others stay as written.
				gsub(/\\\\/, "\001", line)
				gsub(/\\"/, "\"", line)
				gsub(/\\u0026/, "\\&", line)
				gsub(/\\u003c/, "<", line)
				gsub(/\\u003e/, ">", line)
				gsub(/\001/, "\\", line)
				return line
			}
			/^[ \t]*[]}]/ {
				if (d == 2) { print "cdb-setup hook: " f ":" l ": gitleaks rule " r; n++; f = ""; l = ""; r = "" }
				d--
				next
			}
			d == 2 && /^[ \t]*"RuleID": / { r = val($0) }
			d == 2 && /^[ \t]*"File": / { f = val($0) }
			d == 2 && /^[ \t]*"StartLine": / { l = val($0) }
			/[[{][ \t]*$/ { d++ }
			END { exit n == 0 }
		' "$report" >&2 && found=1
	fi
	echo "cdb-setup hook: commit blocked: gitleaks reported a secret in the staged changes (the value is not shown)." >&2
	if [ "$found" -ne 1 ]; then
		echo "cdb-setup hook: gitleaks did not say where (exit status $status; its messages are above)." >&2
	fi
	echo "Unstage it (git restore --staged <file>), move the value to your secrets folder, and commit again. A false positive goes into .gitleaksignore." >&2
	exit "$status"
fi
exit 0
`)
	return []byte(b.String())
}

// shellEscapeDQ makes s safe inside a double-quoted sh string.
func shellEscapeDQ(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "$", `\$`, "`", "\\`")
	return r.Replace(s)
}
