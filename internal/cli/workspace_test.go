package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/claire-de-binare/cdb-setup/internal/platform"
	"github.com/claire-de-binare/cdb-setup/internal/secrets"
	"github.com/claire-de-binare/cdb-setup/internal/testenv"
	"github.com/claire-de-binare/cdb-setup/internal/workspace"
)

// demoClone is a copy of examples/demo in its own git repository whose
// .gitignore ignores compose/.env (the demo's compose_dir is compose, not
// CDB's infrastructure/compose).
func demoClone(t *testing.T) string {
	t.Helper()
	repo := filepath.Join(testenv.TempDir(t), "demo")
	copyTree(t, filepath.Join("..", "..", "examples", "demo"), repo)
	gitInit(t, repo)
	if err := os.WriteFile(filepath.Join(repo, ".gitignore"), []byte("compose/.env\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return repo
}

// wsRig runs real command lines in-process and keeps the workspace each
// resolved (the Factory memoises it).
type wsRig struct {
	home, state, repo string
	env               platform.MapEnvironment
}

func newWSRig(t *testing.T) *wsRig {
	t.Helper()
	home := testenv.TempDir(t)
	r := &wsRig{home: home, state: filepath.Join(home, "state"), repo: demoClone(t)}
	r.env = platform.MapEnvironment{"HOME": home, "USERPROFILE": home, "LOCALAPPDATA": home, "PATH": os.Getenv("PATH"),
		"CDB_SETUP_STATE_DIR": r.state, "DOCKER_CONFIG": os.Getenv("DOCKER_CONFIG"), "CDB_SETUP_COMPOSE": os.Getenv("CDB_SETUP_COMPOSE")}
	return r
}

// run runs args with --repo and returns the workspace the command used,
// its exit code and its stderr.
func (r *wsRig) run(t *testing.T, env platform.MapEnvironment, args ...string) (*workspace.Workspace, int, string) {
	t.Helper()
	var out, errb bytes.Buffer
	f := &Factory{IO: &IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errb}, Global: &GlobalOptions{}, Env: env, Context: context.Background()}
	root := NewRootCmd(f)
	root.SetArgs(append([]string{"--repo", r.repo}, args...))
	code := 0
	if err := root.ExecuteContext(context.Background()); err != nil {
		code = 1
		errb.WriteString("✗ " + err.Error() + "\n")
	}
	// Reports (doctor, status, check) are on stdout, progress on stderr:
	// the tests read both, stdout first.
	return f.ws, code, out.String() + errb.String()
}

// TestEveryCommandResolvesTheSameWorkspace: issue 11, observations 1 and
// 2. From the same inputs, secrets, env, keychain, hook, up, down, doctor,
// uninstall and the wizard use the same repo, compose folder, secrets
// folder, project and state folder, each row one precedence level.
func TestEveryCommandResolvesTheSameWorkspace(t *testing.T) {
	r := newWSRig(t)
	p := func(s string) string { return filepath.Join(r.home, s) }
	saved := "secrets_path: " + p("saved") + "\n"
	everything := platform.MapEnvironment{"CDB_SETUP_SECRETS_PATH": p("cdbenv"), "CDB_SETUP_PROJECT": "cdbenvproject",
		"SECRETS_PATH": p("secretspath"), "STACK_NAME": "stackname"}
	rows := []struct {
		name       string
		flags      []string
		env        []string // keys of everything to set
		saved      bool
		dir, dirSr string
		proj, prSr string
	}{
		{"flags", []string{"--secrets-path", "~/flag", "--project-name", "flagproject"},
			[]string{"CDB_SETUP_SECRETS_PATH", "CDB_SETUP_PROJECT", "SECRETS_PATH", "STACK_NAME"}, true,
			p("flag"), "from --secrets-path", "flagproject", "from --project-name"},
		{"CDB_SETUP_*", nil, []string{"CDB_SETUP_SECRETS_PATH", "CDB_SETUP_PROJECT", "SECRETS_PATH", "STACK_NAME"}, true,
			p("cdbenv"), "from CDB_SETUP_SECRETS_PATH", "cdbenvproject", "from CDB_SETUP_PROJECT"},
		{"last setup", nil, []string{"SECRETS_PATH", "STACK_NAME"}, true,
			p("saved"), "from your last setup", "stackname", "from STACK_NAME"},
		{"SECRETS_PATH and STACK_NAME", nil, []string{"SECRETS_PATH", "STACK_NAME"}, false,
			p("secretspath"), "from SECRETS_PATH", "stackname", "from STACK_NAME"},
		{"defaults", nil, nil, false,
			filepath.Join(r.home, "Documents", ".secrets", ".cdb"), "default <Documents>/.secrets/.cdb",
			"cdbdemo", "from the manifest (" + filepath.Join(r.repo, "cdb-setup.yaml") + ")"},
	}
	commands := [][]string{
		{"secrets", "check"},
		{"env", "status", "--no-shells"},
		{"env", "set", "--dry-run"},
		{"keychain", "status", "--keychain-timeout", "5s"},
		{"hook", "status"},
		{"hook", "install", "--dry-run"},
		{"up", "--dry-run"},
		{"down", "--dry-run"},
		{"doctor"},
		{"uninstall", "--dry-run"},
		{"--yes", "--dry-run", "--persist", "none", "--hook=false", "--start=false", "--keychain=false"}, // the wizard
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			os.RemoveAll(r.state)
			if row.saved {
				os.MkdirAll(r.state, 0o700)
				if err := os.WriteFile(filepath.Join(r.state, workspace.AnswersFileName), []byte(saved), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			env := platform.MapEnvironment{}
			for k, v := range r.env {
				env[k] = v
			}
			for _, k := range row.env {
				env[k] = everything[k]
			}
			for _, cmd := range commands {
				ws, _, stderr := r.run(t, env, append(append([]string(nil), row.flags...), cmd...)...)
				name := strings.Join(cmd, " ")
				if ws == nil {
					t.Errorf("%s: resolved no workspace\n%s", name, stderr)
					continue
				}
				got := []string{ws.Repo, ws.ComposeDir, ws.SecretsDir, ws.SecretsSource, ws.Project, ws.ProjectSource, ws.StateDir}
				want := []string{r.repo, filepath.Join(r.repo, "compose"), row.dir, row.dirSr, row.proj, row.prSr, r.state}
				if strings.Join(got, "|") != strings.Join(want, "|") {
					t.Errorf("%s:\n got %q\nwant %q\n%s", name, got, want, stderr)
				}
				// What the commands print agrees with what they resolved.
				switch cmd[0] {
				case "secrets", "keychain":
					if line := "Secrets folder: " + row.dir + " (" + row.dirSr + ")"; !strings.Contains(stderr, line) {
						t.Errorf("%s does not print %q:\n%s", name, line, stderr)
					}
				case "down":
					// compose itself gets the same project.
					if !strings.Contains(stderr, " -p "+row.proj+" ") {
						t.Errorf("down's compose command lacks -p %s:\n%s", row.proj, stderr)
					}
				case "doctor":
					if line := row.dir + " (" + row.dirSr + ")"; !strings.Contains(stderr, line) {
						t.Errorf("doctor does not name %q:\n%s", line, stderr)
					}
				}
			}
		})
	}
}

// TestSecretsFolderOfLastSetupEverywhere: issue 11, observation 1. After
// `cdb-setup --secrets-path ~/mysecrets --persist none --yes --start=false`
// (the ~ quoted, so cdb-setup expands it), `secrets check` and `doctor`
// both inspect that folder and say it came from the last setup.
func TestSecretsFolderOfLastSetupEverywhere(t *testing.T) {
	r := newWSRig(t)
	want := filepath.Join(r.home, "mysecrets")
	cwd, _ := os.Getwd()
	_, code, stderr := r.run(t, r.env, "--secrets-path", "~/mysecrets", "--persist", "none", "--yes", "--start=false", "--hook=false", "--keychain=false")
	if code != 0 {
		t.Fatalf("setup: exit %d\n%s", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(want, "REDIS_PASSWORD")); err != nil {
		t.Fatalf("setup did not create the secrets in %s: %v\n%s", want, err, stderr)
	}
	if _, err := os.Lstat(filepath.Join(cwd, "~")); err == nil {
		t.Errorf("a folder named ~ was created in %s", cwd)
	}
	ws, code, stderr := r.run(t, r.env, "secrets", "check")
	if code != 0 || !strings.Contains(stderr, "Secrets folder: "+want+" (from your last setup)") {
		t.Errorf("secrets check: exit %d, workspace %s\n%s", code, ws.SecretsDir, stderr)
	}
	_, _, stderr = r.run(t, r.env, "doctor")
	if !strings.Contains(stderr, "✓ Secrets folder: "+want+" (from your last setup), private to you") {
		t.Errorf("doctor does not check %s from the last setup:\n%s", want, stderr)
	}
	// A flag still wins over the last setup, for both.
	other := filepath.Join(r.home, "other")
	if _, _, stderr := r.run(t, r.env, "--secrets-path", other, "secrets", "check"); !strings.Contains(stderr, "Secrets folder: "+other+" (from --secrets-path)") {
		t.Errorf("--secrets-path after a setup:\n%s", stderr)
	}
}

// TestComposeEnvInTheManifestsComposeFolder: issue 11, observation 3. The
// demo's manifest says compose_dir: compose; --persist compose-env writes
// compose/.env there (git ignores it), env unset removes it again, and a
// clone that does not ignore it is refused naming the right file.
func TestComposeEnvInTheManifestsComposeFolder(t *testing.T) {
	r := newWSRig(t)
	dir := filepath.Join(r.home, "secrets")
	envFile := filepath.Join(r.repo, "compose", ".env")
	_, code, stderr := r.run(t, r.env, "--yes", "--persist", "compose-env", "--start=false", "--hook=false", "--keychain=false", "--secrets-path", dir)
	if code != 0 {
		t.Fatalf("setup: exit %d\n%s", code, stderr)
	}
	b, err := os.ReadFile(envFile)
	if err != nil || !strings.Contains(string(b), "SECRETS_PATH='"+dir+"'") {
		t.Fatalf("%s = %q, %v\n%s", envFile, b, err, stderr)
	}
	if _, err := os.Stat(filepath.Join(r.repo, "infrastructure")); err == nil {
		t.Errorf("infrastructure/compose was created in the demo clone")
	}
	if _, _, stderr := r.run(t, r.env, "env", "status", "--no-shells"); !strings.Contains(stderr, envFile) {
		t.Errorf("env status does not list %s:\n%s", envFile, stderr)
	}
	if _, code, stderr := r.run(t, r.env, "env", "unset", "--yes"); code != 0 {
		t.Fatalf("env unset: exit %d\n%s", code, stderr)
	}
	if b, _ := os.ReadFile(envFile); strings.Contains(string(b), "SECRETS_PATH") {
		t.Errorf("env unset left %s = %q", envFile, b)
	}

	os.Remove(filepath.Join(r.repo, ".gitignore"))
	_, code, stderr = r.run(t, r.env, "env", "set", "--compose-env", "--shells=false", "--secrets-path", dir)
	if code == 0 || !strings.Contains(stderr, "git does not ignore "+envFile) || !strings.Contains(stderr, "add `compose/.env` to .gitignore") {
		t.Errorf("not ignored: exit %d\n%s", code, stderr)
	}
}

// TestStackNameSameKeychainService: issue 11, observation 2. With
// STACK_NAME set, `keychain push` writes the service doctor's keychain line
// reads (both take the workspace's project), with the real Secret Service.
func TestStackNameSameKeychainService(t *testing.T) {
	needKeychain(t)
	r := newWSRig(t)
	for _, k := range []string{"DBUS_SESSION_BUS_ADDRESS", "XDG_RUNTIME_DIR", "XDG_DATA_HOME"} {
		r.env[k] = os.Getenv(k)
	}
	purgeMirrors(t, r.state)
	dir := filepath.Join(r.home, "secrets")
	r.env["STACK_NAME"] = "wstest" + filepath.Base(r.home)
	r.env["SECRETS_PATH"] = dir
	service := secrets.KeychainService(r.env["STACK_NAME"], dir)
	if _, code, stderr := r.run(t, r.env, "secrets", "init", "--yes"); code != 0 {
		t.Fatalf("secrets init: exit %d\n%s", code, stderr)
	}
	ws, code, stderr := r.run(t, r.env, "keychain", "push")
	if code != 0 || ws.Project != r.env["STACK_NAME"] || !strings.Contains(stderr, "service "+service) {
		t.Fatalf("keychain push: exit %d, project %s, want service %s\n%s", code, ws.Project, service, stderr)
	}
	_, _, stderr = r.run(t, r.env, "doctor")
	if !strings.Contains(stderr, "✓ Keychain mirror: in sync (3 secrets, service "+service+")") {
		t.Errorf("doctor reads another keychain service than push wrote (%s):\n%s", service, stderr)
	}
}
