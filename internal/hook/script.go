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
const ScriptVersion = 2

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

# gitleaks 8.19 replaced "protect" with "git --pre-commit"; older versions
# lack the "git" command, so asking for its help fails there.
if "$gitleaks" git --help >/dev/null 2>&1; then
	"$gitleaks" git --pre-commit --staged --redact --verbose "$@"
else
	"$gitleaks" protect --staged --redact --verbose "$@"
fi
status=$?
if [ "$status" -ne 0 ]; then
	echo "cdb-setup hook: commit blocked: gitleaks reported a secret in the staged changes (values redacted above)." >&2
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
