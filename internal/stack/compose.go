// Package stack starts and stops the Compose stack and proves it healthy:
// it locates and invokes Compose, talks to the Engine of the current docker
// context, waits on Engine events, diagnoses failures and runs functional
// checks. It prints nothing; the CLI renders what it returns.
package stack

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/claire-de-binare/cdb-setup/internal/lazyre"
	"github.com/claire-de-binare/cdb-setup/internal/platform"
	"github.com/claire-de-binare/cdb-setup/internal/secrets"
)

// Compose is a located Compose CLI.
type Compose struct {
	// Argv is the command before compose's own arguments:
	// ["/usr/bin/docker", "compose"] or ["/usr/bin/docker-compose"].
	Argv    []string `json:"argv"`
	Version string   `json:"version"`
	// V1 is the old Python docker-compose.
	V1     bool   `json:"v1"`
	Source string `json:"source"`
}

// String is the command as a user would type it.
func (c Compose) String() string {
	if len(c.Argv) == 2 && filepath.Base(c.Argv[0]) == exeName("docker") {
		return "docker compose"
	}
	return strings.Join(c.Argv, " ")
}

// Limits lists what this Compose cannot do that the CDB files or cdb-setup
// rely on. Empty for v2.
func (c Compose) Limits() []string {
	if !c.V1 {
		return nil
	}
	return []string{
		"cannot read compose files with a top-level `name:` (CDB's base.yml has one)",
		"has no `up --wait`, no `include:` and no `config --format json`",
		"is end-of-life since 2023",
	}
}

// V1Blockers names the files v1 refuses outright: its schema knows no
// top-level name: or include:.
func V1Blockers(paths []string) []string {
	var out []string
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		var top map[string]any
		if yaml.Unmarshal(b, &top) != nil {
			continue
		}
		for _, k := range []string{"name", "include"} {
			if _, ok := top[k]; ok {
				out = append(out, fmt.Sprintf("%s (top-level %s:)", filepath.Base(p), k))
			}
		}
	}
	return out
}

// LookPath is exec.LookPath, injectable for tests.
type LookPath func(string) (string, error)

// LocateCompose finds Compose: CDB_SETUP_COMPOSE (a compose v2 binary, as
// scripts/test.sh builds it), else the `docker compose` v2 plugin, else a
// standalone docker-compose (v2, or v1 where it is all there is).
func LocateCompose(ctx context.Context, env platform.Environment, look LookPath) (Compose, error) {
	if look == nil {
		look = exec.LookPath
	}
	if p := env.Getenv("CDB_SETUP_COMPOSE"); p != "" {
		v, err := composeVersion(ctx, env, p)
		if err != nil {
			return Compose{}, fmt.Errorf("CDB_SETUP_COMPOSE=%s does not run: %v (unset it, or point it at a docker-compose v2 binary)", p, err)
		}
		return Compose{Argv: []string{p}, Version: v, V1: isV1(v), Source: "CDB_SETUP_COMPOSE"}, nil
	}
	var tried []string
	if docker, err := look("docker"); err == nil {
		if v, err := composeVersion(ctx, env, docker, "compose"); err == nil {
			return Compose{Argv: []string{docker, "compose"}, Version: v, Source: "docker compose plugin"}, nil
		}
		tried = append(tried, "`docker compose` (the plugin is not installed)")
	} else {
		tried = append(tried, "`docker` (not on PATH)")
	}
	if dc, err := look("docker-compose"); err == nil {
		if v, err := composeVersion(ctx, env, dc); err == nil {
			return Compose{Argv: []string{dc}, Version: v, V1: isV1(v), Source: "standalone docker-compose"}, nil
		}
		tried = append(tried, "`docker-compose` (does not run)")
	} else {
		tried = append(tried, "`docker-compose` (not on PATH)")
	}
	return Compose{}, &ComposeNotFoundError{Tried: tried, GOOS: runtime.GOOS}
}

// ComposeNotFoundError: no Compose at all. Its message ends in the install
// advice for GOOS (platform.ComposeInstallFix); What is the finding alone,
// for checks that give the fix on a line of its own.
type ComposeNotFoundError struct {
	Tried []string
	GOOS  string
}

func (e *ComposeNotFoundError) What() string {
	return fmt.Sprintf("Docker Compose was not found (tried %s)", strings.Join(e.Tried, ", "))
}

func (e *ComposeNotFoundError) Error() string {
	return e.What() + ": " + platform.ComposeInstallFix(e.GOOS)
}

var versionRe = lazyre.New(`v?(\d+\.\d+\.\d+[^\s,]*)|version (dev)`)

func composeVersion(ctx context.Context, env platform.Environment, argv ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], append(argv[1:], "version")...)
	// Even `compose version` never sees a secret-named variable (trap 2).
	childEnv := secrets.ComposeEnv(env, nil, "")
	delete(childEnv, "SECRETS_PATH")
	cmd.Env = pairs(childEnv)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("%v: %s", err, firstLine(string(out)))
	}
	m := versionRe().FindStringSubmatch(string(out))
	switch {
	case m == nil:
		return "", fmt.Errorf("unrecognised version output %q", firstLine(string(out)))
	case m[1] != "":
		return m[1], nil
	default:
		// A v2 built from source without ldflags says "version dev".
		return "dev", nil
	}
}

func isV1(v string) bool { return strings.HasPrefix(v, "1.") }

// Invocation is one stack as Compose sees it.
type Invocation struct {
	// Repo is the repository root; Files are relative to it (forward
	// slashes), or absolute for an overlay cdb-setup generated (tls).
	Repo    string
	Files   []string
	Project string
	// Env is compose's whole environment (secrets.ComposeEnv: the user's
	// minus anything named like a secret, plus SECRETS_PATH).
	Env map[string]string
}

// Args builds compose's arguments: -f with absolute forward-slash paths
// (Windows' C:/... works, and nothing depends on the working directory),
// -p with the manifest's project, then sub.
func (inv Invocation) Args(sub ...string) []string {
	var args []string
	for _, p := range inv.AbsFiles() {
		args = append(args, "-f", filepath.ToSlash(p))
	}
	args = append(args, "-p", inv.Project)
	return append(args, sub...)
}

// AbsFiles are the compose files as absolute paths, in -f order.
func (inv Invocation) AbsFiles() []string {
	var out []string
	for _, f := range inv.Files {
		p := filepath.FromSlash(f)
		if !filepath.IsAbs(p) { // absolute: an overlay cdb-setup generated outside the repo
			p = filepath.Join(inv.Repo, p)
		}
		out = append(out, p)
	}
	return out
}

// CommandLine is the compose command as a user would type it (for plans
// and fixes). It never contains secrets: only paths and flags.
func (c Compose) CommandLine(inv Invocation, sub ...string) string {
	parts := []string{c.String()}
	for _, a := range inv.Args(sub...) {
		if strings.ContainsAny(a, " \t\"'") {
			a = "\"" + a + "\""
		}
		parts = append(parts, a)
	}
	return strings.Join(parts, " ")
}

// Run runs compose with inv and sub. Output goes to out (may be nil) and the
// last 64 KiB is also returned for diagnosis. A cancelled ctx interrupts
// compose the way Ctrl-C would, so it stops cleanly.
func (c Compose) Run(ctx context.Context, inv Invocation, out io.Writer, sub ...string) (string, error) {
	args := append(append([]string{}, c.Argv[1:]...), inv.Args(sub...)...)
	cmd := exec.CommandContext(ctx, c.Argv[0], args...)
	cmd.Dir = inv.Repo
	cmd.Env = pairs(inv.Env)
	cmd.Cancel = func() error {
		if runtime.GOOS == "windows" {
			return cmd.Process.Kill()
		}
		return cmd.Process.Signal(os.Interrupt)
	}
	cmd.WaitDelay = 15 * time.Second
	tail := &tailBuffer{max: 64 << 10}
	w := io.Writer(tail)
	if out != nil {
		w = io.MultiWriter(out, tail)
	}
	cmd.Stdout, cmd.Stderr = w, w
	err := cmd.Run()
	if err != nil {
		if ctx.Err() != nil {
			return tail.String(), ctx.Err()
		}
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return tail.String(), fmt.Errorf("`%s` failed (exit code %d): %s", strings.Join(sub, " "), ee.ExitCode(), lastLines(tail.String(), 5))
		}
		return tail.String(), fmt.Errorf("run %s: %w", c, err)
	}
	return tail.String(), nil
}

func pairs(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k, v := range m {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return out
}

type tailBuffer struct {
	buf bytes.Buffer
	max int
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.buf.Write(p)
	if over := t.buf.Len() - t.max; over > 0 {
		t.buf.Next(over)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string { return t.buf.String() }

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.TrimSpace(strings.Join(lines, "\n"))
}

func exeName(s string) string {
	if runtime.GOOS == "windows" {
		return s + ".exe"
	}
	return s
}
