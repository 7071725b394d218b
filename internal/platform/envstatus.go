package platform

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/claire-de-binare/cdb-setup/internal/lazyre"
)

// Assignment is one line of a user's file that sets SECRETS_PATH.
type Assignment struct {
	Line int    `json:"line"`
	Text string `json:"text"`
	// Value is the value the line sets, when it can be read without running
	// a shell (quotes, ~ and $HOME are understood); Known is false otherwise.
	Value string `json:"value,omitempty"`
	Known bool   `json:"known"`
	// Managed is true inside cdb-setup's block.
	Managed bool `json:"managed"`
}

var assignRE = []func() *regexp.Regexp{
	// sh, bash, zsh, ksh, .env, environment.d
	lazyre.New(`^\s*(?:export\s+|declare\s+-[a-zA-Z]*x[a-zA-Z]*\s+|typeset\s+-x\s+)?SECRETS_PATH=(.*)$`),
	// fish
	lazyre.New(`^\s*set\s+(?:-[a-zA-Z]+\s+|--[a-z]+\s+)*SECRETS_PATH(?:\s+(.*))?$`),
	// csh, tcsh, launchctl
	lazyre.New(`^\s*(?:setenv|launchctl\s+setenv)\s+SECRETS_PATH\s+(.*)$`),
}

// FindAssignments lists every line of content that sets SECRETS_PATH, and
// whether it lies inside our managed block. Damaged markers do not stop it:
// status must still show what is there.
func FindAssignments(content []byte, home string) []Assignment {
	var out []Assignment
	in := false
	for _, l := range splitLines(content) {
		switch {
		case isMarker(l.text, BlockBegin):
			in = true
			continue
		case isMarker(l.text, BlockEnd):
			in = false
			continue
		}
		for i, lazy := range assignRE {
			re := lazy()
			m := re.FindStringSubmatch(l.text)
			if m == nil {
				continue
			}
			a := Assignment{Line: l.lineNo, Text: strings.TrimSpace(l.text), Managed: in}
			if i == 1 {
				a.Value, a.Known = fishWord(m[1], home)
			} else {
				a.Value, a.Known = shellWord(m[1], home)
			}
			out = append(out, a)
			break
		}
	}
	return out
}

// shellWord reads the first word of s the way a shell would for the simple
// cases (single quotes, double quotes without expansions, bare words, ~ and
// $HOME prefixes). Anything else is reported as unknown rather than guessed.
func shellWord(s, home string) (string, bool) {
	s = strings.TrimSpace(s)
	var b strings.Builder
	i := 0
	for i < len(s) {
		c := s[i]
		switch {
		case c == '\'':
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				return "", false
			}
			b.WriteString(s[i+1 : i+1+j])
			i += j + 2
		case c == '"':
			j := i + 1
			for ; j < len(s) && s[j] != '"'; j++ {
				if s[j] == '\\' && j+1 < len(s) {
					j++
					b.WriteByte(s[j])
					continue
				}
				if s[j] == '$' || s[j] == '`' {
					if rest, ok := homePrefix(s[j:], home); ok && b.Len() == 0 {
						b.WriteString(home)
						j += len(s[j:]) - len(rest) - 1
						continue
					}
					return "", false
				}
				b.WriteByte(s[j])
			}
			if j >= len(s) {
				return "", false
			}
			i = j + 1
		case c == ' ' || c == '\t' || c == ';' || c == '#':
			return b.String(), true
		case c == '\\' && i+1 < len(s):
			b.WriteByte(s[i+1])
			i += 2
		case c == '~' && i == 0 && (len(s) == 1 || s[1] == '/'):
			b.WriteString(home)
			i++
		case c == '$' || c == '`':
			rest, ok := homePrefix(s[i:], home)
			if !ok || b.Len() != 0 {
				return "", false
			}
			b.WriteString(home)
			i = len(s) - len(rest)
		default:
			b.WriteByte(c)
			i++
		}
	}
	return b.String(), true
}

// fishWord reads fish's single-quoted form (where \' and \\ are escapes,
// as FishQuote writes them); other forms read like sh.
func fishWord(s, home string) (string, bool) {
	s = strings.TrimSpace(s)
	if !strings.HasPrefix(s, "'") {
		return shellWord(s, home)
	}
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\' && i+1 < len(s) && (s[i+1] == '\'' || s[i+1] == '\\'):
			b.WriteByte(s[i+1])
			i++
		case c == '\'':
			return b.String(), true
		default:
			b.WriteByte(c)
		}
	}
	return "", false
}

func homePrefix(s, home string) (string, bool) {
	for _, p := range []string{"${HOME}", "$HOME"} {
		if strings.HasPrefix(s, p) {
			rest := s[len(p):]
			if p == "$HOME" && rest != "" && (rest[0] == '_' || rest[0] >= 'A' && rest[0] <= 'Z' || rest[0] >= 'a' && rest[0] <= 'z' || rest[0] >= '0' && rest[0] <= '9') {
				return "", false
			}
			return rest, home != ""
		}
	}
	return "", false
}

// EnvPlace is a place that sets SECRETS_PATH.
type EnvPlace struct {
	Where string `json:"where"` // a file, or a registry key
	Assignment
	// Stale is true for a value set outside our block that differs from the
	// one cdb-setup manages (or that cannot be read without running a shell).
	Stale bool `json:"stale"`
}

// ShellView is what a freshly started shell sees.
type ShellView struct {
	Shell   string `json:"shell"`
	Mode    string `json:"mode"` // "login", "interactive", "plain"
	Command string `json:"command"`
	Set     bool   `json:"set"`
	Value   string `json:"value,omitempty"`
	Error   string `json:"error,omitempty"`
}

// StatusOptions select what env status looks at.
type StatusOptions struct {
	Facts      Facts
	Env        Environment
	Expected   string // the value cdb-setup manages ("" if unknown)
	ComposeEnv string
	UserEnv    UserEnvStore
	LookPath   func(string) (string, error)
	// Timeout bounds each shell (default 15 s): a broken rc file that waits
	// for input must not hang status.
	Timeout time.Duration
}

// EnvPlaces lists every place that sets SECRETS_PATH: user rc files, the
// usual system-wide files, fish, environment.d, the LaunchAgent, the
// compose .env and (Windows) the registry.
func EnvPlaces(o StatusOptions) []EnvPlace {
	if o.UserEnv == nil {
		o.UserEnv = DefaultUserEnv()
	}
	var out []EnvPlace
	if o.Facts.OS == "windows" && o.UserEnv != nil {
		if v, _, ok, err := o.UserEnv.Get(EnvVar); err == nil && ok {
			out = append(out, EnvPlace{Where: UserEnvKey + `\` + EnvVar, Assignment: Assignment{Value: v, Known: true, Managed: true}})
		}
		if v, _, ok, err := o.UserEnv.Get("WSLENV"); err == nil && ok {
			if _, rep := MergeWSLENV(v, WSLENVEntry); rep != "" {
				out = append(out, EnvPlace{Where: UserEnvKey + `\WSLENV`, Assignment: Assignment{Text: rep, Managed: true}})
			}
		}
	}
	for _, p := range statusFiles(o) {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		if isOwned(b) {
			for _, a := range FindAssignments(b, o.Facts.Home) {
				a.Managed = true
				out = append(out, EnvPlace{Where: p, Assignment: a})
			}
			continue
		}
		for _, a := range FindAssignments(b, o.Facts.Home) {
			pl := EnvPlace{Where: p, Assignment: a}
			pl.Stale = !a.Managed && (!a.Known || o.Expected == "" || filepath.Clean(a.Value) != filepath.Clean(o.Expected))
			out = append(out, pl)
		}
	}
	return out
}

func statusFiles(o StatusOptions) []string {
	f, env := o.Facts, o.Env
	var files []string
	if f.OS == "windows" {
		if o.ComposeEnv != "" {
			files = append(files, o.ComposeEnv)
		}
		return files
	}
	for _, n := range []string{".profile", ".bash_profile", ".bash_login", ".bashrc", ".zshenv", ".zprofile", ".zshrc", ".zlogin", ".pam_environment"} {
		files = append(files, filepath.Join(f.Home, n))
	}
	if zd := env.Getenv("ZDOTDIR"); zd != "" && filepath.Clean(zd) != filepath.Clean(f.Home) {
		for _, n := range []string{".zshenv", ".zprofile", ".zshrc", ".zlogin"} {
			files = append(files, filepath.Join(zd, n))
		}
	}
	cfg := configHome(f, env)
	files = append(files, filepath.Join(cfg, "fish", "config.fish"))
	for _, glob := range []string{filepath.Join(cfg, "fish", "conf.d", "*.fish"), filepath.Join(cfg, "environment.d", "*.conf")} {
		m, _ := filepath.Glob(glob)
		sort.Strings(m)
		files = append(files, m...)
	}
	if f.OS == "darwin" {
		files = append(files, LaunchAgentPath(f))
	}
	files = append(files, "/etc/environment", "/etc/profile", "/etc/bash.bashrc", "/etc/zsh/zshenv", "/etc/zshenv")
	if o.ComposeEnv != "" {
		files = append(files, o.ComposeEnv)
	}
	return files
}

// probe is one way of starting a shell.
type probe struct {
	shell, mode string
	args        []string
}

const (
	probeStart = "__CDB_SETUP_BEGIN__"
	probeEnd   = "__CDB_SETUP_END__"
)

var (
	shProbe   = `if [ -n "${SECRETS_PATH+x}" ]; then printf '` + probeStart + `%s` + probeEnd + `' "$SECRETS_PATH"; fi`
	fishProbe = `if set -q SECRETS_PATH; printf '` + probeStart + `%s` + probeEnd + `' "$SECRETS_PATH"; end`
	pwshProbe = `if (Test-Path env:SECRETS_PATH) { [Console]::Out.Write('` + probeStart + `' + $env:SECRETS_PATH + '` + probeEnd + `') }`
)

func probes() []probe {
	return []probe{
		{"bash", "login", []string{"-lc", shProbe}},
		{"bash", "interactive", []string{"-ic", shProbe}},
		{"zsh", "plain", []string{"-c", shProbe}},
		{"zsh", "login", []string{"-lc", shProbe}},
		{"zsh", "interactive", []string{"-ic", shProbe}},
		{"sh", "login", []string{"-lc", shProbe}},
		{"dash", "login", []string{"-lc", shProbe}},
		{"fish", "plain", []string{"-c", fishProbe}},
		{"fish", "login", []string{"-l", "-c", fishProbe}},
		{"pwsh", "login", []string{"-Login", "-NoLogo", "-NoProfile", "-NonInteractive", "-Command", pwshProbe}},
	}
}

// ShellEnv is the environment a new terminal's shell starts from, as far as
// rc files are concerned: who the user is and where things are, but not
// SECRETS_PATH (nor anything else this process inherited), so the shell
// shows what its startup files give, not what we already have.
func ShellEnv(env Environment) []string {
	var out []string
	for _, k := range []string{"HOME", "USER", "LOGNAME", "PATH", "SHELL", "LANG", "LC_ALL", "ZDOTDIR", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_RUNTIME_DIR", "TMPDIR"} {
		if v, ok := env.LookupEnv(k); ok {
			out = append(out, k+"="+v)
		}
	}
	return append(out, "TERM=dumb")
}

// ProbeShells runs every shell found on the machine, in its login,
// interactive and plain modes, and reports what SECRETS_PATH each sees. It
// runs them for real: rc files can do anything, so guessing would be wrong.
func ProbeShells(ctx context.Context, o StatusOptions) []ShellView {
	if o.Facts.OS == "windows" {
		return nil
	}
	if o.LookPath == nil {
		env := o.Env
		o.LookPath = func(n string) (string, error) { return LookPathIn(env, n) }
	}
	if o.Timeout == 0 {
		o.Timeout = 15 * time.Second
	}
	env := ShellEnv(o.Env)
	var out []ShellView
	seen := map[string]bool{}
	for _, p := range probes() {
		path, err := o.LookPath(p.shell)
		if err != nil {
			continue
		}
		// sh is often dash: report it once, as sh.
		real, _ := filepath.EvalSymlinks(path)
		key := real + " " + p.mode
		if seen[key] {
			continue
		}
		seen[key] = true
		out = append(out, runProbe(ctx, o, path, p, env))
	}
	return out
}

func runProbe(ctx context.Context, o StatusOptions, path string, p probe, env []string) ShellView {
	v := ShellView{Shell: p.shell, Mode: p.mode, Command: p.shell + " " + strings.Join(p.args[:len(p.args)-1], " ")}
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, p.args...)
	cmd.Env = env
	cmd.Dir = o.Facts.Home
	cmd.WaitDelay = time.Second
	ownProcessGroup(cmd)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	killProcessGroup(cmd)
	outb := stdout.Bytes()
	if i := bytes.Index(outb, []byte(probeStart)); i >= 0 {
		rest := outb[i+len(probeStart):]
		if j := bytes.Index(rest, []byte(probeEnd)); j >= 0 {
			v.Set, v.Value = true, string(rest[:j])
		}
	}
	if err != nil && !v.Set {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			v.Error = "did not finish within " + o.Timeout.String() + " (an rc file waits for input?)"
		} else {
			v.Error = err.Error()
			if s := strings.TrimSpace(lastLine(stderr.String())); s != "" {
				v.Error += ": " + s
			}
		}
	}
	return v
}

func lastLine(s string) string {
	s = strings.TrimRight(s, "\r\n")
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}
