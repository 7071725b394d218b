//go:build !windows

package cli

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/claire-de-binare/cdb-setup/internal/platform"
	"github.com/claire-de-binare/cdb-setup/internal/testenv"
)

type envRig struct {
	home, state string
	env         platform.MapEnvironment
}

func newEnvRig(t *testing.T) *envRig {
	t.Helper()
	home := testenv.TempDir(t)
	r := &envRig{home: home, state: filepath.Join(testenv.TempDir(t), "state")}
	r.env = platform.MapEnvironment{"HOME": home, "PATH": os.Getenv("PATH"), "SHELL": "/bin/bash",
		"USER": "tester", "CDB_SETUP_STATE_DIR": r.state, "XDG_DATA_HOME": testenv.TempDir(t)}
	return r
}

// run runs the real command line in-process with the rig's environment.
func (r *envRig) run(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	io := &IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errb}
	code = Main(context.Background(), args, io, r.env)
	return code, out.String(), errb.String()
}

func TestEnvSetStatusUnsetCLI(t *testing.T) {
	for _, sh := range []string{"bash", "zsh", "sh", "fish"} {
		testenv.NeedCommand(t, sh)
	}
	r := newEnvRig(t)
	orig := "export EDITOR=vi" // no final newline
	os.WriteFile(filepath.Join(r.home, ".bashrc"), []byte(orig), 0o600)
	want := filepath.Join(r.home, "Documents", ".secrets", ".cdb")

	code, stdout, stderr := r.run(t, "env", "set", "--yes")
	if code != 0 {
		t.Fatalf("env set: exit %d\n%s", code, stderr)
	}
	if stdout != "" {
		t.Errorf("human output on stdout: %q", stdout)
	}
	for _, s := range []string{".profile", ".bashrc", ".zshenv", "cdb-setup.fish", "What to restart", "new terminal"} {
		if !strings.Contains(stderr, s) {
			t.Errorf("env set output lacks %q:\n%s", s, stderr)
		}
	}

	code, stdout, stderr = r.run(t, "env", "status", "--json")
	if code != 0 {
		t.Fatalf("env status: exit %d\n%s", code, stderr)
	}
	var st EnvStatus
	envelopeData(t, stdout, &st)
	if st.Expected != want || st.StaleCount != 0 {
		t.Errorf("status: expected=%q stale=%d", st.Expected, st.StaleCount)
	}
	seen := map[string]bool{}
	for _, v := range st.Shells {
		if v.Shell == "pwsh" {
			continue
		}
		seen[v.Command] = true
		if !v.Set || v.Value != want {
			t.Errorf("%s sees %q (set %v, %s)", v.Command, v.Value, v.Set, v.Error)
		}
	}
	for _, c := range []string{"bash -lc", "bash -ic", "zsh -c", "sh -lc", "fish -c"} {
		if !seen[c] {
			t.Errorf("status did not run %s (ran %v)", c, seen)
		}
	}

	code, _, stderr = r.run(t, "env", "unset")
	if code != 0 {
		t.Fatalf("env unset: exit %d\n%s", code, stderr)
	}
	if b, _ := os.ReadFile(filepath.Join(r.home, ".bashrc")); string(b) != orig {
		t.Errorf(".bashrc after unset = %q, want %q", b, orig)
	}
	for _, p := range []string{".profile", ".zshenv", ".config"} {
		if _, err := os.Lstat(filepath.Join(r.home, p)); err == nil {
			t.Errorf("%s left behind", p)
		}
	}
}

// TestEnvSetKeepsExistingValue: a different SECRETS_PATH already in effect
// (here: set by an earlier env set) is kept under --yes, replaced only with
// --force.
func TestEnvSetKeepsExistingValue(t *testing.T) {
	r := newEnvRig(t)
	if code, _, stderr := r.run(t, "env", "set", "--yes", "--shells", "--secrets-path", "/old/secrets"); code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	code, _, stderr := r.run(t, "env", "set", "--yes", "--shells")
	if code != 0 || !strings.Contains(stderr, "keeping it") || !strings.Contains(stderr, "--force") {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	b, _ := os.ReadFile(filepath.Join(r.home, ".profile"))
	if !strings.Contains(string(b), "'/old/secrets'") {
		t.Errorf(".profile = %q", b)
	}
	code, _, stderr = r.run(t, "env", "set", "--yes", "--force")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	b, _ = os.ReadFile(filepath.Join(r.home, ".profile"))
	if !strings.Contains(string(b), filepath.Join(r.home, "Documents", ".secrets", ".cdb")) {
		t.Errorf(".profile after --force = %q", b)
	}
}

func TestEnvSetComposeEnvNeedsGitIgnore(t *testing.T) {
	testenv.NeedCommand(t, "git")
	r := newEnvRig(t)
	repo := testenv.TempDir(t)
	git := func(args ...string) {
		cmd := exec.Command("git", append([]string{"-C", repo}, args...)...)
		cmd.Env = append(os.Environ(), "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	git("init", "-q")
	os.MkdirAll(filepath.Join(repo, "infrastructure", "compose"), 0o755)

	code, _, stderr := r.run(t, "--repo", repo, "env", "set", "--yes", "--shells=false", "--compose-env")
	if code != 1 || !strings.Contains(stderr, "does not ignore") {
		t.Fatalf("not ignored: exit %d\n%s", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(repo, "infrastructure", "compose", ".env")); err == nil {
		t.Fatal(".env written although git would commit it")
	}
	os.WriteFile(filepath.Join(repo, ".gitignore"), []byte("infrastructure/compose/.env\n"), 0o644)
	code, _, stderr = r.run(t, "--repo", repo, "env", "set", "--yes", "--shells=false", "--compose-env")
	if code != 0 {
		t.Fatalf("ignored: exit %d\n%s", code, stderr)
	}
	b, _ := os.ReadFile(filepath.Join(repo, "infrastructure", "compose", ".env"))
	if !strings.Contains(string(b), "SECRETS_PATH='") {
		t.Errorf(".env = %q", b)
	}
	code, _, stderr = r.run(t, "--repo", repo, "uninstall")
	if _, err := os.Stat(filepath.Join(repo, "infrastructure", "compose", ".env")); code != 0 || err == nil {
		t.Errorf("uninstall: exit %d, .env still there (%v)\n%s", code, err, stderr)
	}
}

// TestUninstallReportsUnknownKinds: records of kinds this build cannot undo
// fail loudly and stay recorded; the secrets folder is kept without --purge.
func TestUninstallReportsUnknownKinds(t *testing.T) {
	r := newEnvRig(t)
	st, _ := platform.LoadState(r.state)
	st.Put(platform.Record{Step: "future.step", Kind: "frobnicator", Target: "/repo/.frob"})
	st.Put(platform.Record{Step: "secrets.folder", Kind: "secrets-folder", Target: "/home/u/Documents/.secrets/.cdb"})
	if err := st.Save(); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := r.run(t, "uninstall")
	if code != 1 || !strings.Contains(stderr, `"frobnicator"`) || !strings.Contains(stderr, "secrets kept in /home/u/Documents/.secrets/.cdb") {
		t.Errorf("exit %d\n%s", code, stderr)
	}
	st, _ = platform.LoadState(r.state)
	if len(st.Records) != 2 {
		t.Errorf("records = %+v", st.Records)
	}
}

// TestEnvSetWSLWindowsFolder: inside WSL, --wsl-secrets windows asks Windows
// for its Documents folder through interop. There is no WSL here, so
// powershell.exe and wslpath are a fake runner that answers as they would.
func TestEnvSetWSLWindowsFolder(t *testing.T) {
	r := newEnvRig(t)
	r.env["WSL_DISTRO_NAME"] = "Ubuntu"
	var errb bytes.Buffer
	f := &Factory{IO: &IOStreams{In: strings.NewReader(""), Out: &bytes.Buffer{}, ErrOut: &errb},
		Global: &GlobalOptions{NoInput: true}, Env: r.env, Context: context.Background()}
	var calls []string
	opts := &EnvSetOptions{F: f, Shells: true, WSLSecrets: "windows",
		Run: func(_ context.Context, name string, args ...string) ([]byte, error) {
			calls = append(calls, name)
			switch name {
			case "powershell.exe":
				return []byte("C:\\Users\\me\\OneDrive\\Documents\r\n"), nil
			case "wslpath":
				return []byte("/mnt/c/Users/me/OneDrive/Documents\n"), nil
			}
			return nil, exec.ErrNotFound
		}}
	if err := envSetRun(opts); err != nil {
		t.Fatalf("%v\n%s", err, errb.String())
	}
	b, _ := os.ReadFile(filepath.Join(r.home, ".profile"))
	if !strings.Contains(string(b), "'/mnt/c/Users/me/OneDrive/Documents/.secrets/.cdb'") {
		t.Errorf(".profile = %q (calls %v)", b, calls)
	}
	if !strings.Contains(errb.String(), "permissions") {
		t.Errorf("no warning about /mnt permissions:\n%s", errb.String())
	}
}

// TestEnvStatusExitRuleMatchesDoctor: one rule for `env status` and doctor's
// SECRETS_PATH lines. Unset everywhere is a warning (!, exit 0; cdb-setup up
// passes SECRETS_PATH itself), a different folder is a failure (✗, exit 1).
func TestEnvStatusExitRuleMatchesDoctor(t *testing.T) {
	testenv.NeedCommand(t, "sh")
	r := newEnvRig(t)
	want := filepath.Join(r.home, "Documents", ".secrets", ".cdb")
	code, stderr, _ := r.run(t, "env", "status")
	if code != 0 || !strings.Contains(stderr, "! not set anywhere") || strings.Contains(stderr, "✗") {
		t.Fatalf("env status, set nowhere: exit %d (want 0, a warning)\n%s", code, stderr)
	}
	_, stderr, _ = r.run(t, "doctor", "--secrets-path", want)
	for _, line := range strings.Split(stderr, "\n") {
		if strings.Contains(line, "SECRETS_PATH") && !strings.HasPrefix(strings.TrimSpace(line), "!") && !strings.HasPrefix(strings.TrimSpace(line), "-") {
			t.Errorf("doctor, SECRETS_PATH set nowhere: %q, want a warning like env status", line)
		}
	}

	os.WriteFile(filepath.Join(r.home, ".profile"), []byte("export SECRETS_PATH=/wrong/place\n"), 0o600)
	code, stderr, _ = r.run(t, "env", "status")
	if code != 1 || !strings.Contains(stderr, "✗") {
		t.Fatalf("env status, a different folder in .profile: exit %d (want 1)\n%s", code, stderr)
	}
	_, stderr, _ = r.run(t, "doctor", "--secrets-path", want)
	if !strings.Contains(stderr, "✗ SECRETS_PATH in new shells") {
		t.Errorf("doctor does not fail the same fact:\n%s", stderr)
	}
}
