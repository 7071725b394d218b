package hook

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/claire-de-binare/cdb-setup/internal/platform"
	"github.com/claire-de-binare/cdb-setup/internal/testenv"
)

// buildCdbSetup builds the real cdb-setup into a temp folder: the hook runs
// `cdb-setup hook scan` as a program, as on a user's machine.
func buildCdbSetup(t *testing.T) string {
	t.Helper()
	testenv.NeedCommand(t, "git")
	dir := testenv.TempDir(t)
	exe := filepath.Join(dir, "cdb-setup")
	if runtime.GOOS == "windows" {
		exe += ".exe"
	}
	cmd := exec.Command(testenv.NeedCommand(t, "go"), "build", "-o", exe, "github.com/claire-de-binare/cdb-setup/cmd/cdb-setup")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return exe
}

// secretsFixture writes a secrets folder like `secrets init` makes: random
// passwords, the DSN built from one, and e-mail addresses.
func secretsFixture(t *testing.T) (dir, pw, redis string) {
	t.Helper()
	dir = filepath.Join(testenv.TempDir(t), ".secrets", ".cdb")
	pw, redis = randomMixed(t, 32), randomMixed(t, 32)
	writeFile(t, filepath.Join(dir, "POSTGRES_PASSWORD"), pw, 0o600)
	writeFile(t, filepath.Join(dir, "REDIS_PASSWORD"), redis+"\n", 0o600)
	writeFile(t, filepath.Join(dir, "POSTGRES_PASSWORD_DSN"), "postgresql://claire_user:"+pw+"@cdb_postgres:5432/claire_de_binare?sslmode=disable", 0o600)
	writeFile(t, filepath.Join(dir, "SMTP_USER"), "someone@example.org", 0o600)
	writeFile(t, filepath.Join(dir, "SMTP_PASSWORD"), "", 0o600)
	return dir, pw, redis
}

// assertOwnSecretsBlocked commits, one at a time, files holding the values of
// the secrets folder and URIs with passwords, and checks each is blocked
// with the file and the secret's name named and no value shown; then that
// harmless content (a ${VAR} reference, an e-mail address) passes.
func assertOwnSecretsBlocked(t *testing.T, env platform.MapEnvironment, dir, pw, redis string) {
	t.Helper()
	blocked := func(file, content, wantName string, values ...string) {
		t.Helper()
		out, code := commit(t, env, dir, map[string]string{file: content})
		if code != 1 {
			t.Fatalf("%s: commit not blocked (exit %d):\n%s", file, code, redactAll(out, values...))
		}
		for _, v := range values {
			assertRedacted(t, out, v)
		}
		if !strings.Contains(out, file) || !strings.Contains(out, wantName) {
			t.Fatalf("%s: output does not name the file and %s:\n%s", file, wantName, redactAll(out, values...))
		}
		gitRun(t, env, dir, "rm", "-q", "--cached", "--", file)
		os.Remove(filepath.Join(dir, file))
	}
	// A copied password file: a random string no gitleaks rule knows.
	blocked("pw-copy.txt", pw, "POSTGRES_PASSWORD", pw)
	// Buried in other text, split across lines of a larger file (the
	// stream is read in chunks; the value straddles a chunk boundary).
	big := strings.Repeat("x", scanChunk-10) + redis + strings.Repeat("y", 100)
	blocked("big.bin", big, "REDIS_PASSWORD", redis)
	// The DSN file itself (its password and the whole DSN are both values).
	blocked("dsn.txt", "DATABASE_URL=postgresql://claire_user:"+pw+"@cdb_postgres:5432/claire_de_binare\n", "POSTGRES_PASSWORD", pw)
	// A URI with a password that is in no secrets file: the gitleaks rule.
	other := randomMixed(t, 24)
	blocked("app.env", "REDIS_URL=redis://default:"+other+"@localhost:6379/0\n", URIRuleID, other)
	blocked("mq.env", "BROKER=amqp://guest:"+other+"@rabbit:5672/\n", URIRuleID, other)

	if out, code := commit(t, env, dir, map[string]string{
		"compose.env": "DATABASE_URL=postgresql://claire_user:${POSTGRES_PASSWORD}@cdb_postgres:5432/db\nALERTS=someone@example.org\n",
	}); code != 0 {
		t.Fatalf("harmless commit blocked (exit %d):\n%s", code, redactAll(out, pw, redis))
	}
}

func redactAll(s string, values ...string) string {
	for _, v := range values {
		s = strings.ReplaceAll(s, v, "[value]")
	}
	return s
}

func TestNativeHookBlocksOwnSecrets(t *testing.T) {
	env := hermeticEnv(t, needGitleaks(t))
	self := buildCdbSetup(t)
	secretsDir, pw, redis := secretsFixture(t)
	dir := newRepo(t, env, "gitleaks.toml")
	mustSucceed(t, install(t, Options{Repo: dir, Env: env, Self: self, SecretsPath: secretsDir}))
	// An exported CDB_SETUP_REPO naming another clone must not make the hook
	// check that clone's index instead of the one being committed.
	env["CDB_SETUP_REPO"] = newRepo(t, env, "")
	hookPath := filepath.Join(dir, ".git", "hooks", "pre-commit")
	script := readBytes(t, hookPath)
	for _, v := range []string{pw, redis} {
		if bytes.Contains(script, []byte(v)) {
			t.Fatal("the hook script holds a secret value")
		}
	}
	if cfg := gitRun(t, env, dir, "config", "--list", "--local"); strings.Contains(cfg, pw) || strings.Contains(cfg, redis) {
		t.Fatal("git config holds a secret value")
	}
	assertOwnSecretsBlocked(t, env, dir, pw, redis)
	if got := string(readBytes(t, filepath.Join(dir, "gitleaks.toml"))); got != fixtureGitleaksConfig {
		t.Fatal("the repository's gitleaks.toml was changed")
	}
	// The repository's own rule still applies through the extending config.
	key := "CDBX_" + fakeSecret(t, 32)
	out, code := commit(t, env, dir, map[string]string{"exchange.txt": "key " + key + "\n"})
	if code != 1 || !strings.Contains(out, "cdb-fixture-exchange-key") {
		t.Fatalf("the repository's rule no longer applies: exit %d", code)
	}
	assertRedacted(t, out, key)
}

func TestPreCommitFrameworkBlocksOwnSecrets(t *testing.T) {
	testenv.NeedCommand(t, "pre-commit")
	env := hermeticEnv(t, needGitleaks(t))
	self := buildCdbSetup(t)
	// pre-commit runs `cdb-setup hook scan` from PATH; the folder comes from
	// the variable every cdb-setup command reads.
	env["PATH"] = filepath.Dir(self) + string(os.PathListSeparator) + env["PATH"]
	secretsDir, pw, redis := secretsFixture(t)
	env["CDB_SETUP_SECRETS_PATH"] = secretsDir
	dir := newRepo(t, env, "")
	writeFile(t, filepath.Join(dir, PreCommitConfigName), fixturePreCommitConfig, 0o644)
	gitRun(t, env, dir, "add", PreCommitConfigName)
	gitRun(t, env, dir, "commit", "-q", "--no-verify", "-m", "pre-commit config")
	mustSucceed(t, install(t, Options{Repo: dir, Env: env, Self: self, SecretsPath: secretsDir}))
	gitRun(t, env, dir, "add", PreCommitConfigName)
	gitRun(t, env, dir, "commit", "-q", "-m", "hooks")
	assertOwnSecretsBlocked(t, env, dir, pw, redis)
}

func TestReadSecretValuesCapAndSkips(t *testing.T) {
	dir := testenv.TempDir(t)
	writeFile(t, filepath.Join(dir, "BIG"), strings.Repeat("a", MaxSecretBytes+1), 0o600)
	writeFile(t, filepath.Join(dir, "SHORT"), "abc", 0o600)
	writeFile(t, filepath.Join(dir, ".POSTGRES_PASSWORD.tmp-123"), "leftoverleftover", 0o600)
	writeFile(t, filepath.Join(dir, "OK"), "  a-long-enough-value\r\n", 0o600)
	sv, err := ReadSecretValues(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(sv.Values) != 1 || string(sv.Values["OK"]) != "a-long-enough-value" {
		t.Fatalf("values: %d %q", len(sv.Values), sv.Values["OK"])
	}
	if len(sv.Skipped) != 2 || !strings.Contains(strings.Join(sv.Skipped, "|"), "BIG") {
		t.Fatalf("skipped: %q", sv.Skipped)
	}
}

// FuzzMatcher: the streaming matcher finds exactly what bytes.Contains finds
// in the whole input, whatever the chunking.
func FuzzMatcher(f *testing.F) {
	f.Add([]byte("hello secretvalue world"), []byte("secretvalue"), []byte("other-value"), uint16(3))
	f.Add([]byte(""), []byte("x"), []byte(""), uint16(1))
	f.Add(bytes.Repeat([]byte("ab"), 40000), []byte("abababab"), []byte("ba"), uint16(7))
	f.Fuzz(func(t *testing.T, data, v1, v2 []byte, step uint16) {
		m := NewMatcher(map[string][]byte{"A": v1, "B": v2})
		got, err := m.Scan(&slowReader{data: data, step: int(step%512) + 1})
		if err != nil {
			t.Fatal(err)
		}
		var want []string
		if len(v1) > 0 && bytes.Contains(data, v1) {
			want = append(want, "A")
		}
		if len(v2) > 0 && bytes.Contains(data, v2) {
			want = append(want, "B")
		}
		if strings.Join(got, ",") != strings.Join(want, ",") {
			t.Fatalf("Scan = %v, want %v", got, want)
		}
	})
}

// slowReader hands out at most step bytes per Read.
type slowReader struct {
	data []byte
	step int
}

func (r *slowReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, io.EOF
	}
	n := min(len(p), r.step, len(r.data))
	copy(p, r.data[:n])
	r.data = r.data[n:]
	return n, nil
}
