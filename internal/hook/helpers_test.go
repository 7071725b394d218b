package hook

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/claire-de-binare/cdb-setup/internal/platform"
	"github.com/claire-de-binare/cdb-setup/internal/step"
	"github.com/claire-de-binare/cdb-setup/internal/testenv"
)

// hermeticEnv is a git environment that reads no user or system config:
// HOME is a temp folder, PATH holds gitleaks, git (and pre-commit) only.
func hermeticEnv(t *testing.T, gitleaksDir string) platform.MapEnvironment {
	t.Helper()
	git := testenv.NeedCommand(t, "git")
	home := testenv.TempDir(t)
	path := []string{}
	if gitleaksDir != "" {
		path = append(path, gitleaksDir)
	}
	path = append(path, filepath.Dir(git), "/usr/local/bin", "/usr/bin", "/bin")
	env := platform.MapEnvironment{
		"HOME":                home,
		"PATH":                strings.Join(path, string(os.PathListSeparator)),
		"GIT_CONFIG_NOSYSTEM": "1",
		"GIT_AUTHOR_NAME":     "Test", "GIT_AUTHOR_EMAIL": "test@example.invalid",
		"GIT_COMMITTER_NAME": "Test", "GIT_COMMITTER_EMAIL": "test@example.invalid",
		"LANG":            "C",
		"PRE_COMMIT_HOME": filepath.Join(home, ".cache", "pre-commit"),
		"XDG_CACHE_HOME":  filepath.Join(home, ".cache"),
	}
	if gitleaksDir != "" {
		// A binary in /usr/local/bin would shadow the one under test.
		env["PATH"] = gitleaksDir + string(os.PathListSeparator) + env["PATH"]
	}
	return env
}

// needGitleaks returns the folder of the real gitleaks (scripts/test.sh
// installs v8.30.1 first on PATH).
func needGitleaks(t *testing.T) string {
	return filepath.Dir(testenv.NeedCommand(t, "gitleaks"))
}

func gitRun(t *testing.T, env platform.MapEnvironment, dir string, args ...string) string {
	t.Helper()
	out, code := runCmd(t, env, dir, "git", args...)
	if code != 0 {
		t.Fatalf("git %s: exit %d: %s", strings.Join(args, " "), code, out)
	}
	return out
}

func runCmd(t *testing.T, env platform.MapEnvironment, dir, name string, args ...string) (string, int) {
	t.Helper()
	p, err := lookPath(env, name)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, p, args...)
	cmd.Dir, cmd.Env = dir, env.Environ()
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); ok {
		return string(out), ee.ExitCode()
	}
	if err != nil {
		t.Fatalf("%s %v: %v", name, args, err)
	}
	return string(out), 0
}

// newRepo makes a repository with one commit and a gitleaks config of the
// given name holding a project rule the default rules do not know.
func newRepo(t *testing.T, env platform.MapEnvironment, configName string) string {
	t.Helper()
	dir := filepath.Join(testenv.TempDir(t), "repo")
	gitRun(t, env, "", "init", "-q", "-b", "main", dir)
	writeFile(t, filepath.Join(dir, "README.md"), "fixture\n", 0o644)
	if configName != "" {
		writeFile(t, filepath.Join(dir, configName), fixtureGitleaksConfig, 0o644)
	}
	gitRun(t, env, dir, "add", "-A")
	gitRun(t, env, dir, "commit", "-q", "--no-verify", "-m", "init")
	return dir
}

// fixtureGitleaksConfig is modelled on CDB's gitleaks.toml: the default
// rules plus a project rule. The project rule only fires when the hook
// passes --config, which is the bug CDB had.
const fixtureGitleaksConfig = `title = "fixture"
[extend]
useDefault = true

[[rules]]
id = "cdb-fixture-exchange-key"
description = "Exchange key (fixture rule)"
regex = '''CDBX_[A-Za-z0-9]{32}'''
keywords = ["cdbx_"]
`

func writeFile(t *testing.T, p, content string, mode os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil {
		t.Fatal(err)
	}
}

// fakeSecret is a random n-char mixed-case alphanumeric value with digits
// that gitleaks flags after POSTGRES_PASSWORD=. A random value can contain
// one of gitleaks' stop words and then is (rightly) not a finding, which made
// the commit tests flaky; so each candidate is first shown to the real
// gitleaks on stdin (never in argv) and only a flagged one is used. It is
// never printed.
func fakeSecret(t *testing.T, n int) string {
	t.Helper()
	for i := 0; i < 100; i++ {
		s := randomMixed(t, n)
		if flaggedByGitleaks(t, "POSTGRES_PASSWORD="+s+"\n") {
			return s
		}
	}
	t.Fatal("gitleaks flagged none of 100 random fixture values")
	return ""
}

// flaggedByGitleaks runs `gitleaks stdin`; without gitleaks on PATH (unit
// tests that only need a value) every candidate counts as flagged.
func flaggedByGitleaks(t *testing.T, content string) bool {
	t.Helper()
	gl, err := exec.LookPath("gitleaks")
	if err != nil {
		return true
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, gl, "stdin", "--no-banner", "--redact", "--exit-code", "1")
	cmd.Stdin = strings.NewReader(content)
	err = cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) && ee.ExitCode() == 1 {
		return true
	}
	if err != nil {
		t.Fatalf("gitleaks stdin: %v", err)
	}
	return false
}

func randomMixed(t *testing.T, n int) string {
	t.Helper()
	const lower, upper, digit = "abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ", "0123456789"
	all := lower + upper + digit
	for {
		var b strings.Builder
		for i := 0; i < n; i++ {
			k, err := rand.Int(rand.Reader, big.NewInt(int64(len(all))))
			if err != nil {
				t.Fatal(err)
			}
			b.WriteByte(all[k.Int64()])
		}
		s := b.String()
		if strings.ContainsAny(s, lower) && strings.ContainsAny(s, upper) && strings.ContainsAny(s, digit) {
			return s
		}
	}
}

// commit stages files and runs the real `git commit`, so the real hook runs.
func commit(t *testing.T, env platform.MapEnvironment, dir string, files map[string]string) (string, int) {
	t.Helper()
	for name, content := range files {
		writeFile(t, filepath.Join(dir, name), content, 0o644)
		gitRun(t, env, dir, "add", "--", name)
	}
	return runCmd(t, env, dir, "git", "commit", "-m", "change")
}

// redactedPiece is the length of the shortest piece of a secret that must
// not appear: a partial mask (gitleaks' --redact=N, a rule that captures
// part of the value) still shows that much.
const redactedPiece = 8

// assertRedacted fails when the secret, or any redactedPiece-character piece
// of it, appears in out (without printing either).
func assertRedacted(t *testing.T, out, secret string) {
	t.Helper()
	if strings.Contains(out, secret) {
		t.Fatalf("the fixture secret appears in the hook output (output withheld)")
	}
	for i := 0; i+redactedPiece <= len(secret); i++ {
		if strings.Contains(out, secret[i:i+redactedPiece]) {
			t.Fatalf("characters %d-%d of the %d-character fixture secret appear in the hook output (output withheld)", i+1, i+redactedPiece, len(secret))
		}
	}
}

func install(t *testing.T, opts Options) step.Report {
	t.Helper()
	steps, err := InstallSteps(context.Background(), opts)
	if err != nil {
		t.Fatalf("InstallSteps: %v", err)
	}
	rep, err := step.Run(context.Background(), steps, step.Options{})
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	return rep
}

func mustSucceed(t *testing.T, rep step.Report) {
	t.Helper()
	for _, r := range rep.Results {
		if r.Status == step.StatusFailed {
			t.Fatalf("step %s failed: %s (fix: %s)", r.Step, r.Detail, r.Fix)
		}
	}
}

func failedStep(rep step.Report) *step.Result {
	for i := range rep.Results {
		if rep.Results[i].Status == step.StatusFailed {
			return &rep.Results[i]
		}
	}
	return nil
}

func uninstall(t *testing.T, opts Options) step.Report {
	t.Helper()
	steps, err := UninstallSteps(context.Background(), opts)
	if err != nil {
		t.Fatalf("UninstallSteps: %v", err)
	}
	rep, err := step.Run(context.Background(), steps, step.Options{})
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	return rep
}

func newState(t *testing.T) *platform.State {
	t.Helper()
	st, err := platform.LoadState(testenv.TempDir(t))
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func readBytes(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func assertHookBytes(t *testing.T, p string) {
	t.Helper()
	b := readBytes(t, p)
	if bytes.Contains(b, []byte("\r")) {
		t.Errorf("%s contains CR", p)
	}
	if bytes.HasPrefix(b, []byte{0xEF, 0xBB, 0xBF}) {
		t.Errorf("%s starts with a BOM", p)
	}
	if !bytes.HasPrefix(b, []byte("#!/bin/sh\n")) {
		t.Errorf("%s does not start with #!/bin/sh", p)
	}
	if v, ok := ParseMarker(b); !ok || v != ScriptVersion {
		t.Errorf("%s: marker version %d, %v", p, v, ok)
	}
	st, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o755 {
		t.Errorf("%s mode %v, want 0755", p, st.Mode().Perm())
	}
}
