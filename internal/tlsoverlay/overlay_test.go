package tlsoverlay

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/claire-de-binare/cdb-setup/internal/composefile"
	"github.com/claire-de-binare/cdb-setup/internal/testenv"
	"github.com/claire-de-binare/cdb-setup/internal/tlscert"
)

// A copy of CDB's tls.yml shape (relative certificate folder, variables for
// passwords, a missing init script, an app service mounting the folder)
// on a CDB-like base; loaded with compose-go exactly as cdb-setup does.
const base = `name: cdb
services:
  cdb_redis:
    image: redis
    container_name: cdb_redis
    secrets: [redis_password]
    command: ["sh", "-c", "redis-server --requirepass $$(cat /run/secrets/redis_password)"]
  cdb_postgres:
    image: postgres
    container_name: cdb_postgres
    environment:
      POSTGRES_PASSWORD_FILE: /run/secrets/postgres_password
    secrets: [postgres_password]
    volumes:
      - postgres_data:/var/lib/postgresql/data
      - ../../schema.sql:/docker-entrypoint-initdb.d/01-schema.sql:ro
      - ../../not-in-this-clone.sql:/docker-entrypoint-initdb.d/02-missing.sql:ro
  cdb_ws:
    image: ws
  cdb_prometheus:
    image: prom
volumes:
  postgres_data:
secrets:
  redis_password:
    file: ${SECRETS_PATH}/REDIS_PASSWORD
  postgres_password:
    file: ${SECRETS_PATH}/POSTGRES_PASSWORD
`

const tlsYML = `services:
  cdb_redis:
    command: >
      redis-server --requirepass $${REDIS_PASSWORD} --tls-port 6379 --port 0
      --tls-cert-file /tls/redis.crt --tls-key-file /tls/redis.key --tls-ca-cert-file /tls/ca.crt
    volumes:
      - ../../../../../.cdb_local/tls:/tls:ro
    healthcheck:
      test: ["CMD", "sh", "-c", "redis-cli --tls --cacert /tls/ca.crt -a $$REDIS_PASSWORD ping"]
  cdb_postgres:
    environment:
      POSTGRES_PASSWORD: ${POSTGRES_PASSWORD}
    volumes:
      - ../../../../../.cdb_local/tls/postgres.key:/var/lib/postgresql/server.key:ro
      - ../../infrastructure/tls/postgres_ssl_init.sh:/docker-entrypoint-initdb.d/00-ssl-init.sh:ro
  cdb_ws:
    volumes:
      - ../../../../../.cdb_local/tls:/tls:ro
`

func TestBuildFixesTLSYML(t *testing.T) {
	root := testenv.TempDir(t)
	repo := filepath.Join(root, "a", "b", "c", "repo")
	compose := filepath.Join(repo, "infrastructure", "compose")
	secrets := filepath.Join(root, "secrets")
	for _, d := range []string{compose, secrets} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.WriteFile(filepath.Join(compose, "base.yml"), []byte(base), 0o644))
	must(os.WriteFile(filepath.Join(compose, "tls.yml"), []byte(tlsYML), 0o644))
	must(os.WriteFile(filepath.Join(repo, "schema.sql"), []byte("--\n"), 0o644))
	certs := tlscert.Dir(secrets)
	env := map[string]string{"SECRETS_PATH": secrets}
	load := func(files ...string) *types.Project {
		l, err := composefile.Load(context.Background(), composefile.Options{Repo: repo, Files: files, Env: env, ProjectName: "cdb"})
		must(err)
		return l.Project
	}
	p := load("infrastructure/compose/base.yml", "infrastructure/compose/tls.yml")
	leaves := Leaves(p, "cdb_postgres", "cdb_redis")
	if len(leaves) != 2 || leaves[0].Name != "postgres" || strings.Join(leaves[0].DNS, ",") != "cdb_postgres" {
		t.Fatalf("leaves %+v", leaves)
	}
	_, err := tlscert.Init(certs, leaves, time.Now())
	must(err)
	o := Options{Project: p, RepoTLSDir: filepath.Join(repo, "..", "..", "..", ".cdb_local", "tls"), CertDir: certs,
		OutDir: filepath.Join(root, "state"), Postgres: "cdb_postgres", Redis: "cdb_redis", Secrets: []string{"REDIS_PASSWORD", "POSTGRES_PASSWORD"},
		Base: load("infrastructure/compose/base.yml")}
	ov, err := Build(o)
	must(err)
	merged := load("infrastructure/compose/base.yml", "infrastructure/compose/tls.yml", filepath.ToSlash(ov.Path))

	pg := merged.Services["cdb_postgres"]
	if got := *pg.Environment["POSTGRES_PASSWORD"]; got != "" {
		t.Errorf("POSTGRES_PASSWORD = %q", got)
	}
	if got := *pg.Environment["POSTGRES_PASSWORD_FILE"]; got != "/run/secrets/postgres_password" {
		t.Errorf("POSTGRES_PASSWORD_FILE = %q", got)
	}
	if !strings.Contains(strings.Join(pg.Command, " "), "ssl=on") || !strings.Contains(strings.Join(pg.Entrypoint, " "), "install -o postgres -g postgres -m 0600") {
		t.Errorf("postgres command %q entrypoint %q", pg.Command, pg.Entrypoint)
	}
	targets := map[string]types.ServiceVolumeConfig{}
	for _, v := range pg.Volumes {
		targets[v.Target] = v
	}
	if _, ok := targets["/docker-entrypoint-initdb.d/00-ssl-init.sh"]; ok {
		t.Error("the missing init script is still mounted")
	}
	if v := targets["/docker-entrypoint-initdb.d/01-schema.sql"]; v.Source != filepath.Join(repo, "schema.sql") {
		t.Errorf("the schema mount was lost: %+v", v)
	}
	// A missing file of the base is not the overlay's to hide: it stays,
	// for the preflight and the diagnosis to report.
	if _, ok := targets["/docker-entrypoint-initdb.d/02-missing.sql"]; !ok {
		t.Error("the overlay removed a mount of the base compose file")
	}
	if v := targets["/var/lib/postgresql/data"]; v.Type != types.VolumeTypeVolume {
		t.Errorf("the data volume was lost: %+v", v)
	}
	if v := targets["/var/lib/postgresql/server.key"]; v.Source != filepath.Join(certs, "postgres.key") {
		t.Errorf("server.key from %s", v.Source)
	}

	rd := merged.Services["cdb_redis"]
	cmd := strings.Join(rd.Command, " ")
	if !strings.HasPrefix(cmd, "sh -c exec redis-server --requirepass \"$(cat /run/secrets/redis_password)\"") {
		t.Errorf("redis command %q", cmd)
	}
	if test := strings.Join(rd.HealthCheck.Test, " "); !strings.Contains(test, `-a "$(cat /run/secrets/redis_password)" ping`) {
		t.Errorf("redis healthcheck %q", test)
	}
	// Every certificate mount comes from the secrets folder; no service
	// sees the CA key or another server's key.
	for name, svc := range merged.Services {
		for _, v := range svc.Volumes {
			if strings.Contains(v.Source, ".cdb_local") {
				t.Errorf("%s still mounts %s", name, v.Source)
			}
			if strings.Contains(v.Source, "ca.key") || (name != "cdb_postgres" && strings.HasSuffix(v.Source, "postgres.key")) || (name != "cdb_redis" && strings.HasSuffix(v.Source, "redis.key")) {
				t.Errorf("%s mounts %s", name, v.Source)
			}
		}
	}
	if _, ok := ov.Fingerprints["cdb_prometheus"]; ok {
		t.Error("a service without certificates got a fingerprint (it would be recreated at every rotate)")
	}
	// Rotation changes the fingerprint of exactly the services that mount
	// certificates.
	before := ov.Fingerprints
	_, err = tlscert.Rotate(certs, leaves, time.Now())
	must(err)
	after, err := Build(o)
	must(err)
	for _, svc := range []string{"cdb_postgres", "cdb_redis", "cdb_ws"} {
		if before[svc] == "" || before[svc] == after.Fingerprints[svc] {
			t.Errorf("%s: fingerprint %q → %q", svc, before[svc], after.Fingerprints[svc])
		}
	}
	// The real Compose accepts the overlay (!override included).
	// (Not under Wine: the Compose binary is a Linux program.)
	if !testenv.UnderWine() {
		c := os.Getenv("CDB_SETUP_COMPOSE")
		testenv.Need(t, c != "", "Compose v2 in CDB_SETUP_COMPOSE (scripts/test.sh builds it)")
		out, err := exec.Command(c, "-f", filepath.Join(compose, "base.yml"), "-f", filepath.Join(compose, "tls.yml"), "-f", ov.Path, "config", "-q").CombinedOutput()
		if err != nil {
			t.Errorf("compose config: %v\n%s", err, out)
		}
	}
}

// The command rewriter takes any argument list: it never panics, and when
// it rewrites, the result is one sh -c whose text no longer holds the
// secret reference.
func FuzzRewriteCommand(f *testing.F) {
	f.Add("redis-server", "--requirepass", "${REDIS_PASSWORD}")
	f.Add("sh", "-c", "redis-server --requirepass $REDIS_PASSWORD")
	f.Add("x", "it's", "$$REDIS_PASSWORD$REDIS_PASSWORD")
	f.Add("", "${", "$")
	targets := map[string]string{"REDIS_PASSWORD": "/run/secrets/redis_password"}
	f.Fuzz(func(t *testing.T, a, b, c string) {
		out, ok := rewriteCommand(types.ShellCommand{a, b, c}, targets, []string{"REDIS_PASSWORD"})
		if !ok {
			return
		}
		if len(out) < 3 || out[1] != "-c" {
			t.Fatalf("rewritten to %q", out)
		}
		if strings.Contains(out[2], "${REDIS_PASSWORD}") {
			t.Fatalf("reference left in %q", out[2])
		}
		test, ok := rewriteTest(types.HealthCheckTest{"CMD-SHELL", a + b + c}, targets, []string{"REDIS_PASSWORD"})
		if ok && len(test) != 2 {
			t.Fatalf("test %q", test)
		}
	})
}
