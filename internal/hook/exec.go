package hook

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/claire-de-binare/cdb-setup/internal/platform"
)

// Timeouts for the external programs the hook code runs. A git plumbing call
// answers in milliseconds; the generous bounds only stop a hung process (a
// credential helper prompt, a network file system) from hanging setup.
const (
	gitTimeout       = 30 * time.Second
	gitleaksTimeout  = 30 * time.Second
	preCommitTimeout = 2 * time.Minute
	goInstallTimeout = 10 * time.Minute
)

// cmdError is a failed external call: what ran, how it ended, its stderr.
type cmdError struct {
	Name   string
	Args   []string
	Stderr string
	Err    error
}

func (e *cmdError) Error() string {
	msg := strings.TrimSpace(e.Stderr)
	if msg == "" {
		msg = e.Err.Error()
	}
	return fmt.Sprintf("%s %s: %s", e.Name, strings.Join(e.Args, " "), msg)
}

func (e *cmdError) Unwrap() error { return e.Err }

// run runs name with args in dir under env with a timeout, returning stdout.
// name is looked up on env's PATH, not this process's, so tests and the CLI
// see the same programs the user's git would.
func run(ctx context.Context, env platform.Environment, dir string, timeout time.Duration, name string, args ...string) ([]byte, error) {
	path, err := lookPath(env, name)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Dir = dir
	cmd.Env = env.Environ()
	if name == "git" {
		// Error texts are matched below; a translated git would hide them.
		cmd.Env = append(cmd.Env, "LC_ALL=C")
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	if ctx.Err() == context.DeadlineExceeded {
		return stdout.Bytes(), &cmdError{Name: name, Args: args, Err: fmt.Errorf("timed out after %s", timeout)}
	}
	if err != nil {
		return stdout.Bytes(), &cmdError{Name: name, Args: args, Stderr: stderr.String(), Err: err}
	}
	return stdout.Bytes(), nil
}

// errNotFound is returned by lookPath when a program is not on PATH.
var errNotFound = errors.New("not found on PATH")

// lookPath finds name on env's PATH (with PATHEXT on Windows).
func lookPath(env platform.Environment, name string) (string, error) {
	if filepath.IsAbs(name) {
		if isExecutable(name) {
			return name, nil
		}
		return "", fmt.Errorf("%s: %w", name, errNotFound)
	}
	exts := []string{""}
	if runtime.GOOS == "windows" {
		exts = strings.Split(strings.ToLower(env.Getenv("PATHEXT")), ";")
		if len(exts) == 1 && exts[0] == "" {
			exts = []string{".exe", ".bat", ".cmd"}
		}
	}
	for _, dir := range filepath.SplitList(env.Getenv("PATH")) {
		if dir == "" {
			continue
		}
		for _, ext := range exts {
			p := filepath.Join(dir, name+ext)
			if isExecutable(p) {
				return p, nil
			}
		}
	}
	return "", fmt.Errorf("%s: %w", name, errNotFound)
}

func isExecutable(p string) bool {
	st, err := os.Stat(p)
	if err != nil || st.IsDir() {
		return false
	}
	if runtime.GOOS == "windows" {
		return true
	}
	return st.Mode()&0o111 != 0
}
