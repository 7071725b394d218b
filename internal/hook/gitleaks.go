package hook

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/claire-de-binare/cdb-setup/internal/platform"
	"github.com/claire-de-binare/cdb-setup/internal/step"
)

// GitleaksModule is what --install-gitleaks installs with `go install`; the
// version is the one the tests run against.
const GitleaksModule = "github.com/zricethezav/gitleaks/v8@v8.30.1"

// Gitleaks is what we know about the gitleaks binary.
type Gitleaks struct {
	Found bool   `json:"found"`
	Path  string `json:"path,omitempty"`
	// Version is "8.30.1", or "" when neither `gitleaks version` nor the
	// binary's Go build information names one.
	Version string `json:"version,omitempty"`
	// GitCommand is true when `gitleaks git --pre-commit` exists (8.19+);
	// otherwise the hook falls back to `gitleaks protect --staged`.
	GitCommand bool `json:"git_command"`
}

var versionRE = regexp.MustCompile(`v?(\d+)\.(\d+)\.(\d+)`)

// ParseVersion reads "v8.18.1" / "8.30.1" into numbers.
func ParseVersion(s string) (major, minor, patch int, ok bool) {
	m := versionRE.FindStringSubmatch(s)
	if m == nil {
		return 0, 0, 0, false
	}
	major, _ = strconv.Atoi(m[1])
	minor, _ = strconv.Atoi(m[2])
	patch, _ = strconv.Atoi(m[3])
	return major, minor, patch, true
}

// TooOld is true for gitleaks before v8 (no `protect --staged`).
func (g Gitleaks) TooOld() bool {
	maj, _, _, ok := ParseVersion(g.Version)
	return ok && maj < 8
}

// Deprecated is true for 8.0–8.18: it works through `protect`, which newer
// versions removed, and lacks rules added since.
func (g Gitleaks) Deprecated() bool {
	maj, min, _, ok := ParseVersion(g.Version)
	return ok && maj == 8 && min < 19
}

// gitleaksCandidates are where installers put gitleaks when their folder is
// not on the PATH this process got (GUI sessions, fresh installs).
func gitleaksCandidates(env platform.Environment, goos string) []string {
	exe := "gitleaks"
	if goos == "windows" {
		exe = "gitleaks.exe"
	}
	var dirs []string
	if d := env.Getenv("GOBIN"); d != "" {
		dirs = append(dirs, d)
	}
	if d := env.Getenv("GOPATH"); d != "" {
		for _, p := range filepath.SplitList(d) {
			dirs = append(dirs, filepath.Join(p, "bin"))
		}
	}
	home := env.Getenv("HOME")
	if goos == "windows" {
		home = env.Getenv("USERPROFILE")
		if la := env.Getenv("LOCALAPPDATA"); la != "" {
			dirs = append(dirs, filepath.Join(la, "Microsoft", "WinGet", "Links"))
		}
		if home != "" {
			dirs = append(dirs, filepath.Join(home, "scoop", "shims"))
		}
	}
	if home != "" {
		dirs = append(dirs, filepath.Join(home, "go", "bin"))
	}
	if goos == "darwin" {
		dirs = append(dirs, "/opt/homebrew/bin", "/usr/local/bin")
	}
	if goos == "linux" {
		dirs = append(dirs, "/home/linuxbrew/.linuxbrew/bin", "/usr/local/bin")
	}
	out := make([]string, 0, len(dirs))
	for _, d := range dirs {
		out = append(out, filepath.Join(d, exe))
	}
	return out
}

// FindGitleaks looks for gitleaks on PATH, then where installers put it,
// and asks it for its version.
func FindGitleaks(ctx context.Context, env platform.Environment, goos string) (Gitleaks, error) {
	var g Gitleaks
	p, err := lookPath(env, "gitleaks")
	if err != nil {
		for _, c := range gitleaksCandidates(env, goos) {
			if isExecutable(c) {
				p = c
				break
			}
		}
	}
	if p == "" {
		return g, nil
	}
	if abs, err := filepath.Abs(p); err == nil {
		p = abs
	}
	g.Found, g.Path = true, p
	out, err := run(ctx, env, "", gitleaksTimeout, p, "version")
	if err != nil {
		return g, step.WithFix(fmt.Errorf("%s does not run: %w", p, err), "reinstall gitleaks: "+InstallCommands(goos, env)[0])
	}
	if _, _, _, ok := ParseVersion(string(out)); ok {
		g.Version = versionRE.FindString(string(out))
	} else if v := goInstalledVersion(ctx, env, p); v != "" {
		g.Version = v
	}
	g.Version = strings.TrimPrefix(g.Version, "v")
	if maj, min, _, ok := ParseVersion(g.Version); ok {
		g.GitCommand = maj > 8 || maj == 8 && min >= 19
	} else {
		_, err := run(ctx, env, "", gitleaksTimeout, p, "git", "--help")
		g.GitCommand = err == nil
	}
	return g, nil
}

// InstallCommands are the ways to install gitleaks on goos, best first.
func InstallCommands(goos string, env platform.Environment) []string {
	goCmd := "go install " + GitleaksModule
	var cmds []string
	switch goos {
	case "darwin":
		cmds = []string{"brew install gitleaks", goCmd}
	case "windows":
		cmds = []string{"winget install --id Gitleaks.Gitleaks -e", "scoop install gitleaks", goCmd}
	default:
		cmds = []string{goCmd}
		if _, err := lookPath(env, "brew"); err == nil {
			cmds = append([]string{"brew install gitleaks"}, cmds...)
		}
	}
	return cmds
}

// InstallGitleaks runs `go install` of gitleaks (only with --install-gitleaks)
// and returns where it went.
func InstallGitleaks(ctx context.Context, env platform.Environment, goos string) (string, error) {
	if _, err := lookPath(env, "go"); err != nil {
		return "", step.WithFix(errors.New("--install-gitleaks needs Go, which is not on PATH"),
			"install gitleaks yourself: "+strings.Join(InstallCommands(goos, env), "  or  "))
	}
	if _, err := run(ctx, env, "", goInstallTimeout, "go", "install", GitleaksModule); err != nil {
		return "", step.WithFix(fmt.Errorf("go install gitleaks: %w", err),
			"check your network or Go proxy, or install gitleaks yourself: "+strings.Join(InstallCommands(goos, env), "  or  "))
	}
	out, err := run(ctx, env, "", gitTimeout, "go", "env", "GOBIN", "GOPATH")
	if err != nil {
		return "", fmt.Errorf("go env: %w", err)
	}
	lines := strings.Split(strings.TrimRight(strings.ReplaceAll(string(out), "\r\n", "\n"), "\n"), "\n")
	exe := "gitleaks"
	if goos == "windows" {
		exe += ".exe"
	}
	dir := ""
	if len(lines) > 0 && strings.TrimSpace(lines[0]) != "" {
		dir = strings.TrimSpace(lines[0])
	} else if len(lines) > 1 {
		dir = filepath.Join(filepath.SplitList(strings.TrimSpace(lines[1]))[0], "bin")
	}
	p := filepath.Join(dir, exe)
	if !isExecutable(p) {
		return "", fmt.Errorf("go install finished but %s is missing", p)
	}
	return p, nil
}

// goInstalledVersion is the module version of a `go install` build of
// gitleaks, which says "version is set by build process" when asked. Such a
// build means Go is here, and `go version -m` reads the version from the
// binary's build information. (Reading it ourselves with debug/buildinfo
// would link the ELF, Mach-O and PE readers: 0.2 MB of a 20 MB budget.)
// "" when Go is not on PATH or the output has no version: the caller then
// probes the commands instead of guessing.
func goInstalledVersion(ctx context.Context, env platform.Environment, path string) string {
	if _, err := lookPath(env, "go"); err != nil {
		return ""
	}
	out, err := run(ctx, env, "", gitleaksTimeout, "go", "version", "-m", path)
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) >= 3 && f[0] == "mod" {
			if _, _, _, ok := ParseVersion(f[2]); ok {
				return f[2]
			}
		}
	}
	return ""
}
