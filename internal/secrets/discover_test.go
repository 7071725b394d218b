package secrets

import (
	"github.com/claire-de-binare/cdb-setup/internal/testenv"

	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/claire-de-binare/cdb-setup/internal/manifest"
	"github.com/claire-de-binare/cdb-setup/internal/platform"
)

func discoverRepo(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := testenv.TempDir(t)
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func smallManifest() *manifest.Manifest {
	return &manifest.Manifest{
		Version: 1, Project: "demo", ComposeDir: "c", DefaultProfile: "dev",
		Profiles: map[string][]string{"dev": {"base.yml"}},
		Overlays: map[string][]string{"extra": {"extra.yml"}},
		Secrets: map[string]manifest.Secret{
			"DB_PASSWORD": {Kind: manifest.KindGenerated, Length: 32, Alphabet: "alnum"},
			"DB_DSN":      {Kind: manifest.KindDerived, Template: `{{ secret "DB_PASSWORD" }}`},
		},
	}
}

const composeWithThreeSecrets = `name: demo
services:
  db:
    image: db
    secrets: [db_password]
  exporter:
    image: exp
    secrets: [db_dsn, db_password_again]
secrets:
  db_password:
    file: ${SECRETS_PATH}/DB_PASSWORD
  db_password_again:
    file: ${SECRETS_PATH}/DB_PASSWORD
  db_dsn:
    file: ${SECRETS_PATH}/DB_DSN
`

func TestDiscoverFromComposeNotFromTheManifest(t *testing.T) {
	repo := discoverRepo(t, map[string]string{
		"c/base.yml":  composeWithThreeSecrets,
		"c/extra.yml": "services:\n  mail:\n    image: m\n    secrets: [smtp]\nsecrets:\n  smtp:\n    file: ${SECRETS_PATH}/SMTP_PASSWORD\n",
	})
	dir := filepath.Join(testenv.TempDir(t), "s")
	c, err := Discover(context.Background(), DiscoverOptions{Repo: repo, Manifest: smallManifest(), Dir: dir, Env: platform.MapEnvironment{}})
	if err != nil {
		t.Fatal(err)
	}
	// Generated first, then derived (which needs them), then external.
	if got, want := c.Names(), []string{"DB_PASSWORD", "DB_DSN", "SMTP_PASSWORD"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("names = %v, want %v", got, want)
	}
	pw, _ := c.Get("DB_PASSWORD")
	if !reflect.DeepEqual(pw.Keys, []string{"db_password", "db_password_again"}) || !reflect.DeepEqual(pw.Services, []string{"db", "exporter"}) {
		t.Errorf("DB_PASSWORD keys %v services %v", pw.Keys, pw.Services)
	}
	if pw.Path != filepath.Join(dir, "DB_PASSWORD") {
		t.Errorf("path = %q", pw.Path)
	}
	smtp, _ := c.Get("SMTP_PASSWORD")
	if smtp.Described || smtp.Policy.Kind != manifest.KindExternal {
		t.Errorf("a secret the manifest does not describe must be external: %+v", smtp)
	}
}

func TestDiscoverOnlySelectedFiles(t *testing.T) {
	repo := discoverRepo(t, map[string]string{"c/base.yml": composeWithThreeSecrets})
	c, err := Discover(context.Background(), DiscoverOptions{Repo: repo, Manifest: smallManifest(), Files: []string{"c/base.yml"}, Dir: filepath.Join(testenv.TempDir(t), "s"), Env: platform.MapEnvironment{}})
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Secrets) != 2 {
		t.Errorf("secrets = %v", c.Names())
	}
}

func TestDiscoverRefusalNamesTheComposeKey(t *testing.T) {
	elsewhere := filepath.ToSlash(filepath.Join(testenv.TempDir(t), "passwd"))
	for _, file := range []string{"${SECRETS_PATH}/../evil", elsewhere, "${SECRETS_PATH}/sub/X", "./local/X", "${SECRETS_PATH}"} {
		t.Run(filepath.Base(file), func(t *testing.T) {
			repo := discoverRepo(t, map[string]string{"c/base.yml": "name: demo\nservices:\n  a:\n    image: a\n    secrets: [x]\nsecrets:\n  x:\n    file: " + file + "\n"})
			_, err := Discover(context.Background(), DiscoverOptions{Repo: repo, Manifest: smallManifest(), Files: []string{"c/base.yml"}, Dir: filepath.Join(testenv.TempDir(t), "s"), Env: platform.MapEnvironment{}})
			if err == nil || !strings.Contains(err.Error(), "will not manage") || !strings.Contains(err.Error(), `secret "x"`) {
				t.Errorf("error = %v", err)
			}
		})
	}
}

func TestDiscoverNeedsAbsoluteDir(t *testing.T) {
	_, err := Discover(context.Background(), DiscoverOptions{Repo: testenv.TempDir(t), Manifest: smallManifest(), Files: []string{"c/base.yml"}, Dir: "rel/s"})
	if err == nil || !strings.Contains(err.Error(), "absolute") {
		t.Errorf("error = %v", err)
	}
}

func TestComposeEnvDropsSecretsKeepsSettings(t *testing.T) {
	env := platform.MapEnvironment{
		"PATH": "/bin", "STACK_NAME": "cdb", "POSTGRES_USER": "claire_user",
		"GRAFANA_PASSWORD": "x", "REDIS_PASSWORD": "x", "MEXC_API_KEY": "x", "MY_TOKEN": "x",
		"CDB_SECRET_SMTP_USER": "x", "SMTP_USER": "x", "POSTGRES_PASSWORD_DSN": "x",
		"SECRETS_PATH": "/old",
	}
	got := ComposeEnv(env, []string{"MEXC_API_KEY.txt", "SMTP_USER"}, "/new")
	want := map[string]string{"PATH": "/bin", "STACK_NAME": "cdb", "POSTGRES_USER": "claire_user", "SECRETS_PATH": "/new"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ComposeEnv = %v\nwant %v", got, want)
	}
}

func TestEnvName(t *testing.T) {
	for in, want := range map[string]string{"MEXC_API_KEY.txt": "MEXC_API_KEY", "redis_password": "REDIS_PASSWORD", "a.b-c": "A_B_C"} {
		if got := EnvName(in); got != want {
			t.Errorf("EnvName(%q) = %q, want %q", in, got, want)
		}
	}
}

// Issue 13 item 9: a variable whose value holds a current secret value
// (DATABASE_URL with the DSN) is dropped too, whatever its name.
func TestComposeEnvDropsByValue(t *testing.T) {
	dir := testenv.TempDir(t)
	pw := "Zq8rT2mV9xK4pL7nW3cY6bH1jF5dS0aE"
	os.WriteFile(filepath.Join(dir, "POSTGRES_PASSWORD"), []byte(pw+"\n"), 0o600)
	os.WriteFile(filepath.Join(dir, "SHORT"), []byte("abc"), 0o600)
	env := platform.MapEnvironment{
		"PATH": "/bin", "DATABASE_URL": "postgresql://claire_user:" + pw + "@localhost:5432/db",
		"NOTE": "abc is fine", "QUOTED": "'" + pw + "'",
	}
	for _, names := range [][]string{{"POSTGRES_PASSWORD", "SHORT"}, nil} {
		got := ComposeEnv(env, names, dir)
		want := map[string]string{"PATH": "/bin", "NOTE": "abc is fine", "SECRETS_PATH": dir}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("names %v: ComposeEnv kept %v", names, envKeys(got))
		}
	}
}

func envKeys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
