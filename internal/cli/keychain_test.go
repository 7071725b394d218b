package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/claire-de-binare/cdb-setup/internal/exitcode"
	"github.com/claire-de-binare/cdb-setup/internal/platform"
	"github.com/claire-de-binare/cdb-setup/internal/secrets"
	"github.com/claire-de-binare/cdb-setup/internal/testenv"
)

func TestNewCmdKeychainFlags(t *testing.T) {
	cases := []struct {
		args    []string
		action  string
		force   bool
		timeout time.Duration
	}{
		{[]string{"push"}, "push", false, secrets.DefaultKeychainTimeout},
		{[]string{"pull", "--force"}, "pull", true, secrets.DefaultKeychainTimeout},
		{[]string{"status", "--keychain-timeout", "2s"}, "status", false, 2 * time.Second},
	}
	for _, c := range cases {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			f := &Factory{IO: &IOStreams{In: strings.NewReader(""), Out: &bytes.Buffer{}, ErrOut: &bytes.Buffer{}}, Global: &GlobalOptions{}, Env: platform.MapEnvironment{}}
			var got *KeychainOptions
			cmd := NewCmdKeychain(f, func(o *KeychainOptions) error { got = o; return nil })
			cmd.SetArgs(c.args)
			if err := cmd.Execute(); err != nil {
				t.Fatal(err)
			}
			if got.Action != c.action || got.Force != c.force || got.Timeout != c.timeout {
				t.Fatalf("got action %q force %v timeout %v", got.Action, got.Force, got.Timeout)
			}
		})
	}
	// --force belongs to pull only: push never overwrites a file.
	f := &Factory{IO: &IOStreams{Out: &bytes.Buffer{}, ErrOut: &bytes.Buffer{}}, Global: &GlobalOptions{}, Env: platform.MapEnvironment{}}
	cmd := NewCmdKeychain(f, func(*KeychainOptions) error { return nil })
	cmd.SetArgs([]string{"push", "--force"})
	cmd.SetErr(&bytes.Buffer{})
	cmd.SetOut(&bytes.Buffer{})
	if err := cmd.Execute(); err == nil {
		t.Fatal("push --force was accepted")
	}
}

// kcCLI runs cdb-setup with args and returns the exit code and both streams.
func kcCLI(t *testing.T, env platform.MapEnvironment, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := Main(context.Background(), args, &IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}, env)
	return code, out.String(), errOut.String()
}

// TestKeychainCommands runs push, status, pull against the real keychain
// (see internal/secrets/keychain_real_test.go for the backends).
func TestKeychainCommands(t *testing.T) {
	testenv.NeedSecretService(t)
	_, err := (&secrets.Keychain{}).Get(context.Background(), "cdb-setup:test:probe", "/probe")
	testenv.Need(t, secrets.IsKeychainKind(err, secrets.KeychainNotFound), fmt.Sprintf("a usable OS keychain (probe: %v)", err))

	repo, err := filepath.Abs(filepath.Join("testdata", "keychain-repo"))
	if err != nil {
		t.Fatal(err)
	}
	base := testenv.TempDir(t)
	dir := filepath.Join(base, "secrets")
	stateDir := filepath.Join(base, "state")
	env := platform.MapEnvironment{"HOME": base, "CDB_SETUP_STATE_DIR": stateDir, "LOCALAPPDATA": base, "USERPROFILE": base}
	password := "Zq8wX2vB7nM4kL1pR6tY9uI3oE5aS0dF"
	files := map[string]string{"REDIS_PASSWORD": password, "POSTGRES_PASSWORD": strings.ToLower(password), "GRAFANA_PASSWORD": strings.ToUpper(password)}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"POSTGRES_PASSWORD_DSN", "SMTP_USER", "SMTP_PASSWORD", "SMTP_FROM", "ALERT_EMAIL_TO", "MEXC_API_KEY.txt", "MEXC_API_SECRET.txt"} {
		files[n] = ""
	}
	for n, v := range files {
		if err := os.WriteFile(filepath.Join(dir, n), []byte(v), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	common := []string{"--repo", repo, "--secrets-path", dir}
	t.Cleanup(func() {
		st, err := platform.LoadState(stateDir)
		if err != nil {
			return
		}
		for _, r := range st.Find(secrets.KeychainRecordKind) {
			_ = (&secrets.Keychain{}).Purge(context.Background(), r)
		}
	})

	code, _, errOut := kcCLI(t, env, append([]string{"keychain", "push"}, common...)...)
	if code != exitcode.OK || !strings.Contains(errOut, "REDIS_PASSWORD mirrored into the keychain (32 bytes)") {
		t.Fatalf("push: exit %d\n%s", code, errOut)
	}
	code, out, errOut := kcCLI(t, env, append([]string{"keychain", "status", "--json"}, common...)...)
	if code != exitcode.OK {
		t.Fatalf("status: exit %d\n%s", code, errOut)
	}
	var st secrets.KeychainStatus
	envelopeData(t, out, &st)
	if !st.Mirrored || len(st.Secrets) != 10 {
		t.Fatalf("status: %+v", st)
	}
	for _, e := range st.Secrets {
		if e.State != secrets.KeychainInSync {
			t.Fatalf("%s is %s", e.Name, e.State)
		}
	}
	for _, v := range []string{password, strings.ToLower(password), strings.ToUpper(password)} {
		if strings.Contains(out+errOut, v) {
			t.Fatal("a secret value appears in the output")
		}
	}

	for n := range files {
		if err := os.Remove(filepath.Join(dir, n)); err != nil {
			t.Fatal(err)
		}
	}
	code, stdout, errOut := kcCLI(t, env, append([]string{"keychain", "status"}, common...)...)
	if code != exitcode.OK || strings.Count(stdout, "only in keychain") != 10 {
		t.Fatalf("status after wipe: exit %d\n%s", code, errOut)
	}
	code, _, errOut = kcCLI(t, env, append([]string{"keychain", "pull"}, common...)...)
	if code != exitcode.OK || !strings.Contains(errOut, "REDIS_PASSWORD restored from the keychain (32 bytes)") {
		t.Fatalf("pull: exit %d\n%s", code, errOut)
	}
	for n, v := range files {
		got, err := os.ReadFile(filepath.Join(dir, n))
		if err != nil || string(got) != v {
			t.Fatalf("%s not restored exactly (%d bytes, err %v)", n, len(got), err)
		}
	}
}

// kcBrokenBackend fails like go-keyring does without a session bus.
type kcBrokenBackend struct{}

var errKCNoBus = errors.New("dial unix /run/user/1000/bus: connect: no such file or directory")

func (kcBrokenBackend) Get(string, string) (string, error) { return "", errKCNoBus }
func (kcBrokenBackend) Set(string, string, string) error   { return errKCNoBus }
func (kcBrokenBackend) Delete(string, string) error        { return errKCNoBus }

// TestKeychainNoKeychainExitCode: no keychain is "environment missing" (3),
// explained once with where the secrets stay.
func TestKeychainNoKeychainExitCode(t *testing.T) {
	repo, _ := filepath.Abs(filepath.Join("testdata", "keychain-repo"))
	base := testenv.TempDir(t)
	dir := filepath.Join(base, "secrets")
	for _, action := range []string{"push", "pull", "status"} {
		var errOut bytes.Buffer
		f := &Factory{IO: &IOStreams{In: strings.NewReader(""), Out: &bytes.Buffer{}, ErrOut: &errOut},
			Global:  &GlobalOptions{Repo: repo, SecretsPath: dir},
			Env:     platform.MapEnvironment{"HOME": base, "CDB_SETUP_STATE_DIR": filepath.Join(base, "state"), "LOCALAPPDATA": base, "USERPROFILE": base},
			Context: context.Background()}
		err := keychainRun(&KeychainOptions{F: f, Action: action, Keychain: &secrets.Keychain{Backend: kcBrokenBackend{}}})
		printError(&errOut, err) // what Main adds
		if exitcode.From(err) != exitcode.Environment {
			t.Fatalf("%s: exit %d (%v)\n%s", action, exitcode.From(err), err, errOut.String())
		}
		if n := strings.Count(errOut.String(), "no keychain on this machine"); n != 1 {
			t.Fatalf("%s: explained %d times:\n%s", action, n, errOut.String())
		}
		if !strings.Contains(errOut.String(), "your secrets stay only in "+dir) {
			t.Fatalf("%s: does not say where the secrets stay:\n%s", action, errOut.String())
		}
	}
}

// TestKeychainResolvesFolderLikeSecrets: keychain and secrets commands use
// one resolver (--secrets-path > SECRETS_PATH > default) and name the source.
func TestKeychainResolvesFolderLikeSecrets(t *testing.T) {
	repo, _ := filepath.Abs(filepath.Join("testdata", "keychain-repo"))
	base := testenv.TempDir(t)
	fromEnv := filepath.Join(base, "from-env")
	cases := []struct {
		flag, want, source string
	}{
		{"", fromEnv, "(from SECRETS_PATH)"},
		{filepath.Join(base, "from-flag"), filepath.Join(base, "from-flag"), "(from --secrets-path)"},
	}
	for _, c := range cases {
		// status's report, the folder line included, is on stdout.
		var errOut bytes.Buffer
		f := &Factory{IO: &IOStreams{In: strings.NewReader(""), Out: &errOut, ErrOut: &bytes.Buffer{}},
			Global:  &GlobalOptions{Repo: repo, SecretsPath: c.flag},
			Env:     platform.MapEnvironment{"HOME": base, "SECRETS_PATH": fromEnv, "CDB_SETUP_STATE_DIR": filepath.Join(base, "state"), "LOCALAPPDATA": base, "USERPROFILE": base},
			Context: context.Background()}
		_ = keychainRun(&KeychainOptions{F: f, Action: "status", Keychain: &secrets.Keychain{Backend: kcBrokenBackend{}}})
		ws, err := f.Workspace()
		if err != nil || ws.SecretsDir != c.want || !strings.Contains(ws.SecretsSource, strings.Trim(c.source, "()")) {
			t.Fatalf("workspace secrets folder = %+v, %v; want %s", ws, err, c.want)
		}
		if !strings.Contains(errOut.String(), "Secrets folder: "+c.want+" "+c.source) {
			t.Fatalf("keychain status does not name the folder and its source:\n%s", errOut.String())
		}
	}
}
