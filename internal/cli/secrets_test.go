package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/claire-de-binare/cdb-setup/internal/exitcode"
	"github.com/claire-de-binare/cdb-setup/internal/platform"
	"github.com/claire-de-binare/cdb-setup/internal/testenv"
)

type cliRun struct {
	code   int
	stdout string
	stderr string
}

// runCLI runs cdb-setup in-process against the fixture repo with a private
// HOME, state dir and environment.
func runCLI(t *testing.T, env platform.MapEnvironment, stdin string, args ...string) cliRun {
	t.Helper()
	var out, errOut bytes.Buffer
	io := &IOStreams{In: strings.NewReader(stdin), Out: &out, ErrOut: &errOut}
	code := Main(context.Background(), args, io, env)
	return cliRun{code: code, stdout: out.String(), stderr: errOut.String()}
}

func fixtureEnv(t *testing.T) (platform.MapEnvironment, string) {
	t.Helper()
	home := testenv.TempDir(t)
	repo, _ := filepath.Abs("../secrets/testdata/cdbrepo")
	env := platform.MapEnvironment{
		"HOME": home, "USERPROFILE": home, "LOCALAPPDATA": filepath.Join(home, "AppData"),
		"CDB_SETUP_STATE_DIR": filepath.Join(home, "state"),
		"CDB_SETUP_REPO":      repo,
		"PATH":                os.Getenv("PATH"),
	}
	return env, home
}

func TestSecretsInitCheckCLI(t *testing.T) {
	env, home := fixtureEnv(t)
	dir := filepath.Join(home, "s")
	r := runCLI(t, env, "", "secrets", "init", "--no-input", "--secrets-path", dir)
	if r.code != 0 {
		t.Fatalf("init: exit %d\n%s", r.code, r.stderr)
	}
	for _, want := range []string{"(from --secrets-path)", "Created REDIS_PASSWORD", "Permissions:"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("init output lacks %q", want)
		}
	}
	pw, _ := os.ReadFile(filepath.Join(dir, "REDIS_PASSWORD"))
	if len(pw) != 32 {
		t.Fatalf("REDIS_PASSWORD has %d bytes", len(pw))
	}
	// Second run with --json: every step done, no secret in any output.
	r = runCLI(t, env, "", "secrets", "init", "--no-input", "--json", "--secrets-path", dir)
	if r.code != 0 {
		t.Fatalf("second init: exit %d", r.code)
	}
	if runtime.GOOS != "windows" && !strings.Contains(r.stderr, "Already done: nothing changed.") {
		t.Errorf("second init does not say it was already done:\n%s", r.stderr)
	}
	var rep struct {
		Results []struct{ Step, Status string }
	}
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("--json output does not parse: %v", err)
	}
	for _, res := range rep.Results {
		if res.Status != "done" && runtime.GOOS != "windows" {
			t.Errorf("second run: %s %s", res.Step, res.Status)
		}
	}
	if strings.Contains(r.stdout+r.stderr, string(pw)) {
		t.Fatal("a secret value appears in the output")
	}
	if runtime.GOOS == "windows" {
		// Wine accepts SetNamedSecurityInfo and changes nothing, so check
		// would report every DACL; the DACL rule is tested as data in
		// internal/secrets, the OS effect on real Windows only.
		return
	}
	// SECRETS_PATH from the environment is used and named.
	env2 := platform.MapEnvironment{}
	for k, v := range env {
		env2[k] = v
	}
	env2["SECRETS_PATH"] = dir
	r = runCLI(t, env2, "", "secrets", "check", "--json")
	if r.code != 0 || !strings.Contains(r.stderr, "(from SECRETS_PATH)") {
		t.Fatalf("check: exit %d\n%s", r.code, r.stderr)
	}
	var cj struct {
		OK     bool
		Errors int
	}
	if envelopeData(t, r.stdout, &cj); !cj.OK {
		t.Fatal("check --json not ok")
	}
	// A CRLF makes check fail with exit 1 and name the problem.
	os.WriteFile(filepath.Join(dir, "GRAFANA_PASSWORD"), []byte("abcdefghijklmnopqrstuvwxyz012345\r\n"), 0o644)
	r = runCLI(t, env2, "", "secrets", "check")
	if r.code != exitcode.Failed || !strings.Contains(r.stdout, "GRAFANA_PASSWORD: ends in CRLF") {
		t.Fatalf("check of a CRLF file: exit %d\n%s", r.code, r.stdout)
	}
	// fix --dry-run changes nothing; fix repairs.
	r = runCLI(t, env2, "", "secrets", "fix", "--dry-run")
	if b, _ := os.ReadFile(filepath.Join(dir, "GRAFANA_PASSWORD")); !bytes.HasSuffix(b, []byte("\r\n")) || r.code != 0 {
		t.Fatal("fix --dry-run changed the file")
	}
	if r = runCLI(t, env2, "", "secrets", "fix"); r.code != 0 {
		t.Fatalf("fix: exit %d\n%s", r.code, r.stderr)
	}
	if r = runCLI(t, env2, "", "secrets", "check"); r.code != 0 {
		t.Fatalf("check after fix: exit %d\n%s", r.code, r.stderr)
	}
}

func TestSecretsInitDefaultPathAndDryRun(t *testing.T) {
	env, home := fixtureEnv(t)
	r := runCLI(t, env, "", "secrets", "init", "--no-input", "--dry-run")
	if r.code != 0 || !strings.Contains(r.stderr, "default <Documents>/.secrets/.cdb") {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(home, "Documents")); err == nil {
		t.Fatal("--dry-run created the folder")
	}
}

func TestSecretsSetFromFileAndStdin(t *testing.T) {
	env, home := fixtureEnv(t)
	dir := filepath.Join(home, "s")
	vf := filepath.Join(home, "smtp-user.txt")
	os.WriteFile(vf, []byte("me@example.org\r\n"), 0o600) // an editor's line ending is dropped
	r := runCLI(t, env, "app-password-1234\n", "secrets", "init", "--secrets-path", dir,
		"--set", "SMTP_USER=@"+vf, "--set", "SMTP_PASSWORD=@-")
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "SMTP_USER")); string(b) != "me@example.org" {
		t.Fatalf("SMTP_USER: %d bytes", len(b))
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "SMTP_PASSWORD")); string(b) != "app-password-1234" {
		t.Fatalf("SMTP_PASSWORD: %d bytes", len(b))
	}
	r = runCLI(t, env, "", "secrets", "init", "--secrets-path", dir, "--set", "SMTP_USER=literal-value")
	if r.code != exitcode.Usage || strings.Contains(r.stderr, "literal-value") {
		t.Fatalf("literal --set: exit %d, or the value was echoed", r.code)
	}
}

func TestSecretsBadInput(t *testing.T) {
	env, home := fixtureEnv(t)
	file := filepath.Join(home, "afile")
	os.WriteFile(file, nil, 0o600)
	cases := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"secrets", "init", "--repo", home}, exitcode.Environment, "--repo"},
		{[]string{"secrets", "init", "--secrets-path", file}, exitcode.Failed, "is not a folder"},
		{[]string{"secrets", "init", "--profile", "nope", "--secrets-path", filepath.Join(home, "s")}, exitcode.Usage, `unknown profile "nope"`},
		{[]string{"secrets", "init", "--overlay", "nope", "--secrets-path", filepath.Join(home, "s")}, exitcode.Usage, `unknown overlay "nope"`},
		{[]string{"secrets", "init", "--file-mode", "0777", "--secrets-path", filepath.Join(home, "s")}, exitcode.Usage, "--file-mode"},
		{[]string{"secrets", "rotate", "NO_SUCH_SECRET", "--secrets-path", filepath.Join(home, "s")}, exitcode.Failed, `unknown secret "NO_SUCH_SECRET"`},
		{[]string{"secrets", "from-env", "--secrets-path", filepath.Join(home, "ci")}, exitcode.Failed, "CDB_SECRET_REDIS_PASSWORD"},
	}
	for _, c := range cases {
		r := runCLI(t, env, "", c.args...)
		if r.code != c.code || !strings.Contains(r.stderr, c.want) {
			t.Errorf("%v: exit %d (want %d), output lacks %q:\n%s", c.args, r.code, c.code, c.want, r.stderr)
		}
	}
}

func TestSecretsMalformedCompose(t *testing.T) {
	env, home := fixtureEnv(t)
	repo := filepath.Join(home, "repo")
	cdir := filepath.Join(repo, "infrastructure", "compose")
	os.MkdirAll(cdir, 0o755)
	src, _ := filepath.Abs("../secrets/testdata/cdbrepo/infrastructure/compose")
	ents, _ := os.ReadDir(src)
	for _, e := range ents {
		b, _ := os.ReadFile(filepath.Join(src, e.Name()))
		os.WriteFile(filepath.Join(cdir, e.Name()), b, 0o644)
	}
	os.WriteFile(filepath.Join(cdir, "dev.yml"), []byte("services:\n  a: [\n"), 0o644)
	r := runCLI(t, env, "", "secrets", "init", "--repo", repo, "--secrets-path", filepath.Join(home, "s"))
	if r.code == 0 || !strings.Contains(r.stderr, "dev.yml") {
		t.Fatalf("malformed dev.yml: exit %d\n%s", r.code, r.stderr)
	}
	os.Remove(filepath.Join(cdir, "dev.yml"))
	r = runCLI(t, env, "", "secrets", "init", "--repo", repo, "--secrets-path", filepath.Join(home, "s"))
	if r.code == 0 || !strings.Contains(r.stderr, "dev.yml is missing") {
		t.Fatalf("missing dev.yml: exit %d\n%s", r.code, r.stderr)
	}
}

func TestSecretsFromEnvCLI(t *testing.T) {
	env, home := fixtureEnv(t)
	dir := filepath.Join(home, "ci")
	env["CDB_SECRET_REDIS_PASSWORD"] = "redis-from-ci-value\n"
	env["CDB_SECRET_POSTGRES_PASSWORD"] = "pg-from-ci-value"
	env["CDB_SECRET_GRAFANA_PASSWORD"] = "grafana-from-ci-value"
	r := runCLI(t, env, "", "secrets", "from-env", "--secrets-path", dir, "--json")
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	if strings.Contains(r.stdout+r.stderr, "from-ci-value") {
		t.Fatal("a CI secret appears in the output")
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "REDIS_PASSWORD")); string(b) != "redis-from-ci-value" {
		t.Fatalf("REDIS_PASSWORD: %d bytes", len(b))
	}
}

// TestSecretsInitRequiredExternalNoInput: a secret the manifest does not
// describe is a required external; without a terminal init lists it, exits
// 3 and writes nothing; with --set it succeeds.
func TestSecretsInitRequiredExternalNoInput(t *testing.T) {
	env, home := fixtureEnv(t)
	repo := filepath.Join(home, "repo")
	cdir := filepath.Join(repo, "infrastructure", "compose")
	os.MkdirAll(cdir, 0o755)
	src, _ := filepath.Abs("../secrets/testdata/cdbrepo/infrastructure/compose")
	ents, _ := os.ReadDir(src)
	for _, e := range ents {
		b, _ := os.ReadFile(filepath.Join(src, e.Name()))
		if e.Name() == "base.yml" {
			b = bytes.Replace(b, []byte("secrets:\n  redis_password:"), []byte("secrets:\n  api_token:\n    file: ${SECRETS_PATH}/API_TOKEN\n  other_token:\n    file: ${SECRETS_PATH}/OTHER_TOKEN\n  redis_password:"), 1)
		}
		os.WriteFile(filepath.Join(cdir, e.Name()), b, 0o644)
	}
	dir := filepath.Join(home, "s")
	r := runCLI(t, env, "", "secrets", "init", "--no-input", "--repo", repo, "--secrets-path", dir)
	if r.code != exitcode.Environment || !strings.Contains(r.stderr, "API_TOKEN") || !strings.Contains(r.stderr, "OTHER_TOKEN") {
		t.Fatalf("exit %d (want 3, both listed):\n%s", r.code, r.stderr)
	}
	if _, err := os.Stat(dir); err == nil {
		t.Fatal("init wrote something although answers were missing")
	}
	vf := filepath.Join(home, "tok")
	os.WriteFile(vf, []byte("token-value-1\n"), 0o600)
	r = runCLI(t, env, "other-token-2", "secrets", "init", "--no-input", "--repo", repo, "--secrets-path", dir, "--set", "API_TOKEN=@"+vf, "--set", "OTHER_TOKEN=@-")
	if r.code != 0 {
		t.Fatalf("with --set: exit %d\n%s", r.code, r.stderr)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "API_TOKEN")); string(b) != "token-value-1" {
		t.Fatalf("API_TOKEN has %d bytes", len(b))
	}
}

// The catalogue cache is written only into a state folder that already
// exists, and never by --dry-run: `secrets check` on a machine cdb-setup has
// not set up creates nothing; after `secrets init` the next run keeps an
// entry; a dry run with another selection adds none.
func TestSecretsCatalogueCacheOnlyInExistingStateFolder(t *testing.T) {
	env, home := fixtureEnv(t)
	dir := filepath.Join(home, "s")
	state := env["CDB_SETUP_STATE_DIR"]
	entries := func() int {
		ents, _ := os.ReadDir(filepath.Join(state, "catalogues"))
		return len(ents)
	}
	runCLI(t, env, "", "secrets", "check", "--secrets-path", dir)
	if _, err := os.Stat(state); err == nil {
		t.Fatalf("secrets check created the state folder %s on a fresh machine", state)
	}
	if r := runCLI(t, env, "", "secrets", "init", "--no-input", "--secrets-path", dir); r.code != 0 {
		t.Fatalf("init: exit %d\n%s", r.code, r.stderr)
	}
	if r := runCLI(t, env, "", "secrets", "check", "--secrets-path", dir); r.code != 0 {
		t.Fatalf("check: exit %d\n%s", r.code, r.stderr)
	}
	n := entries()
	if n == 0 {
		t.Fatal("no catalogue cache entry after init and check")
	}
	if r := runCLI(t, env, "", "secrets", "init", "--dry-run", "--no-input", "--profile", "prod", "--secrets-path", dir); r.code != 0 {
		t.Fatalf("dry run: exit %d\n%s", r.code, r.stderr)
	}
	if entries() != n {
		t.Errorf("--dry-run wrote a catalogue cache entry (%d → %d)", n, entries())
	}
	// The same selection for real does (so the dry run above could have).
	if r := runCLI(t, env, "", "secrets", "check", "--profile", "prod", "--secrets-path", dir); r.code != 0 {
		t.Fatalf("check --profile prod: exit %d\n%s", r.code, r.stderr)
	}
	if entries() != n+1 {
		t.Errorf("secrets check --profile prod: %d entries, want %d", entries(), n+1)
	}
}
