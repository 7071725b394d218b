package cli

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/claire-de-binare/cdb-setup/internal/manifest"
	"github.com/claire-de-binare/cdb-setup/internal/platform"
	"github.com/claire-de-binare/cdb-setup/internal/secrets"
	"github.com/claire-de-binare/cdb-setup/internal/step"
	"github.com/claire-de-binare/cdb-setup/internal/testenv"
)

// The real PostgreSQL 15 and Redis 7 images scripts/server-images.sh builds
// from Debian's packages. Grafana has no Debian package: the stack's
// Grafana is the project's fake service (internal/fakesvc, grafana mode),
// which keeps its admin password in its volume like Grafana and emulates
// `grafana cli admin reset-admin-password --password-from-stdin`.
const (
	realPostgresImage = "cdb-setup-test/postgres:15"
	realRedisImage    = "cdb-setup-test/redis:7"
)

type realStack struct {
	*e2eStack
	pgPort, redisPort, grafanaPort int
	docker                         string
}

// newRealStack writes a CDB-shaped stack: real postgres and redis, the fake
// Grafana, cdb_ws reading REDIS_PASSWORD at start (like CDB's apps), and
// cdb_prometheus reading no secret at all.
func newRealStack(t *testing.T) *realStack {
	t.Helper()
	needStack(t)
	docker := testenv.NeedCommand(t, "docker")
	for _, img := range []string{realPostgresImage, realRedisImage} {
		testenv.Need(t, exec.Command(docker, "image", "inspect", img).Run() == nil,
			fmt.Sprintf("the image %s (scripts/server-images.sh builds it; scripts/test.sh runs it)", img))
	}
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	s := &realStack{e2eStack: &e2eStack{t: t, repo: testenv.TempDir(t), secrets: testenv.TempDir(t), project: "cdbtrekey" + hex.EncodeToString(b),
		values: map[string]string{}, state: testenv.TempDir(t)}, pgPort: freePort(t), redisPort: freePort(t), grafanaPort: freePort(t), docker: docker}
	must(t, os.Chmod(s.secrets, 0o700))
	manifest := fmt.Sprintf(`version: 1
project: %s
compose_dir: compose
profiles:
  dev: [base.yml]
default_profile: dev
targets: [cdb_postgres, cdb_redis, cdb_grafana, cdb_ws, cdb_prometheus]
secrets:
  POSTGRES_PASSWORD: {kind: generated, volume: postgres_data}
  REDIS_PASSWORD: {kind: generated}
  GRAFANA_PASSWORD: {kind: generated, volume: grafana_data}
  POSTGRES_PASSWORD_DSN:
    kind: derived
    template: 'postgresql://claire_user:{{urlquery (secret "POSTGRES_PASSWORD")}}@cdb_postgres:5432/claire_de_binare?sslmode=disable'
checks:
  - {kind: postgres-login, service: cdb_postgres, secret: POSTGRES_PASSWORD, address: "127.0.0.1:%d", user: claire_user, database: claire_de_binare}
  - {kind: redis-auth, service: cdb_redis, secret: REDIS_PASSWORD, address: "127.0.0.1:%d"}
  - {kind: http-basic-auth, service: cdb_grafana, secret: GRAFANA_PASSWORD, address: "127.0.0.1:%d", user: admin, path: /api/user}
`, s.project, s.pgPort, s.redisPort, s.grafanaPort)
	compose := fmt.Sprintf(`name: %s
services:
  cdb_postgres:
    image: %s
    environment: {POSTGRES_DB: claire_de_binare, POSTGRES_USER: claire_user, POSTGRES_PASSWORD_FILE: /run/secrets/postgres_password}
    secrets: [postgres_password]
    volumes: [postgres_data:/var/lib/postgresql/data]
    healthcheck: {test: ["CMD-SHELL", "pg_isready -U claire_user -d claire_de_binare"], interval: 2s, timeout: 3s, retries: 5, start_period: 60s}
    ports: ["127.0.0.1:%d:5432"]
  cdb_redis:
    image: %s
    secrets: [redis_password]
    volumes: [redis_data:/data]
    command: ["sh", "-c", "exec redis-server --requirepass \"$$(cat /run/secrets/redis_password)\""]
    healthcheck: {test: ["CMD", "sh", "-c", "REDISCLI_AUTH=\"$$(cat /run/secrets/redis_password)\" redis-cli ping | grep -q PONG"], interval: 2s, timeout: 3s, retries: 5, start_period: 60s}
    ports: ["127.0.0.1:%d:6379"]
  cdb_grafana:
    image: %s
    user: "472"
    environment: {FAKE_MODE: grafana, FAKE_PASSWORD_FILE: /run/secrets/grafana_password, FAKE_DATA_DIR: /data, FAKE_HTTP_PORT: "3000"}
    secrets: [grafana_password]
    volumes: [grafana_data:/data]
    ports: ["127.0.0.1:%d:3000"]
  cdb_ws:
    image: %s
    environment: {FAKE_SECRET_FILES: /run/secrets/redis_password}
    secrets: [redis_password]
  cdb_prometheus:
    image: %s
volumes:
  postgres_data:
  redis_data:
  grafana_data:
secrets:
  postgres_password:
    file: ${SECRETS_PATH}/POSTGRES_PASSWORD
  redis_password:
    file: ${SECRETS_PATH}/REDIS_PASSWORD
  grafana_password:
    file: ${SECRETS_PATH}/GRAFANA_PASSWORD
  postgres_password_dsn:
    file: ${SECRETS_PATH}/POSTGRES_PASSWORD_DSN
`, s.project, realPostgresImage, s.pgPort, realRedisImage, s.redisPort, e2eImage, s.grafanaPort, e2eImage, e2eImage)
	must(t, os.MkdirAll(filepath.Join(s.repo, "compose"), 0o755))
	must(t, os.WriteFile(filepath.Join(s.repo, "cdb-setup.yaml"), []byte(manifest), 0o644))
	must(t, os.WriteFile(filepath.Join(s.repo, "compose", "base.yml"), []byte(compose), 0o644))
	for _, n := range []string{"POSTGRES_PASSWORD", "REDIS_PASSWORD", "GRAFANA_PASSWORD"} {
		s.setSecret(n, 0o644)
	}
	must(t, os.WriteFile(filepath.Join(s.secrets, "POSTGRES_PASSWORD_DSN"), []byte("postgresql://claire_user:"+s.values["POSTGRES_PASSWORD"]+"@cdb_postgres:5432/claire_de_binare?sslmode=disable"), 0o644))
	t.Cleanup(s.remove)
	return s
}

// up starts the stack; the login checks wait out postgres' first
// initialisation (observation 4), so one up suffices.
func (s *realStack) up(ctx context.Context) {
	s.t.Helper()
	if r := s.run(ctx, s.env(), "up"); r.code != 0 {
		s.t.Fatalf("up: exit %d", r.code)
	}
}

func (s *realStack) secret(name string) string {
	b, err := os.ReadFile(filepath.Join(s.secrets, name))
	must(s.t, err)
	return string(b)
}

// containers maps each service to its container ID.
func (s *realStack) containers() map[string]string {
	out, err := exec.Command(s.docker, "ps", "--filter", "label=com.docker.compose.project="+s.project, "--format", `{{.Label "com.docker.compose.service"}}={{.ID}}`).Output()
	must(s.t, err)
	m := map[string]string{}
	for _, l := range strings.Fields(string(out)) {
		k, v, _ := strings.Cut(l, "=")
		m[k] = v
	}
	return m
}

// psql runs SQL in the postgres container on its local socket (no password).
func (s *realStack) psql(sql string) string {
	id := s.containers()["cdb_postgres"]
	cmd := exec.Command(s.docker, "exec", "-i", id, "psql", "-X", "-w", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-U", "claire_user", "-d", "claire_de_binare")
	cmd.Stdin = strings.NewReader(sql)
	out, err := cmd.CombinedOutput()
	if err != nil {
		s.t.Fatalf("psql: %v: %s", err, out)
	}
	return strings.TrimSpace(string(out))
}

// redisCmd sends AUTH and one command over TCP; the password never leaves
// this process except to redis.
func redisCmd(addr, pw string, args ...string) (string, error) {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return "", err
	}
	return redisCmdOn(c, pw, args...)
}

// redisCmdOn is redisCmd on an open connection (plain or TLS); it closes c.
func redisCmdOn(c net.Conn, pw string, args ...string) (string, error) {
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	all := append([]string{"AUTH", pw}, args...)
	write := func(a []string) {
		fmt.Fprintf(c, "*%d\r\n", len(a))
		for _, x := range a {
			fmt.Fprintf(c, "$%d\r\n%s\r\n", len(x), x)
		}
	}
	write(all[:2])
	write(args)
	r := bufio.NewReader(c)
	line, err := r.ReadString('\n')
	if err != nil {
		return "", err
	}
	if !strings.HasPrefix(line, "+OK") {
		return "", errors.New(strings.TrimSpace(line))
	}
	line, err = r.ReadString('\n')
	if err != nil {
		return "", err
	}
	if strings.HasPrefix(line, "$") {
		v, _ := r.ReadString('\n')
		return strings.TrimSpace(v), nil
	}
	return strings.TrimSpace(line), nil
}

func pgLoginOnce(port int, pw string) error {
	cfg, err := pgconn.ParseConfig(fmt.Sprintf("host=127.0.0.1 port=%d user=claire_user dbname=claire_de_binare sslmode=disable connect_timeout=5", port))
	if err != nil {
		return err
	}
	cfg.Password = pw
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := pgconn.ConnectConfig(ctx, cfg)
	if err != nil {
		return err
	}
	return c.Close(ctx)
}

func grafanaLogin(port int, pw string) (int, error) {
	req, _ := http.NewRequest(http.MethodGet, fmt.Sprintf("http://127.0.0.1:%d/api/user", port), nil)
	req.SetBasicAuth("admin", pw)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

// TestRotateInPlaceKeepsData is the scenario of docs/recovery.md: a row in
// postgres and a key in redis; rotate POSTGRES_PASSWORD, REDIS_PASSWORD and
// GRAFANA_PASSWORD on the running stack; the row and the key are still
// there, the new passwords log in, the old ones are refused, and only the
// containers that read a rotated secret at start were recreated.
func TestRotateInPlaceKeepsData(t *testing.T) {
	s := newRealStack(t)
	ctx := context.Background()
	s.up(ctx)
	s.psql("CREATE TABLE trades (id int, pair text); INSERT INTO trades VALUES (1, 'BTCUSDT');\n")
	redisAddr := fmt.Sprintf("127.0.0.1:%d", s.redisPort)
	if _, err := redisCmd(redisAddr, s.secret("REDIS_PASSWORD"), "SET", "last_signal", "buy"); err != nil {
		t.Fatal(err)
	}
	before := s.containers()
	old := map[string]string{}
	for _, n := range []string{"POSTGRES_PASSWORD", "REDIS_PASSWORD", "GRAFANA_PASSWORD", "POSTGRES_PASSWORD_DSN"} {
		old[n] = s.secret(n)
	}

	for _, n := range []string{"POSTGRES_PASSWORD", "REDIS_PASSWORD", "GRAFANA_PASSWORD"} {
		r := s.run(ctx, s.env(), "secrets", "rotate", n)
		if r.code != 0 {
			t.Fatalf("secrets rotate %s: exit %d", n, r.code)
		}
		s.values[n+" (new)"] = s.secret(n)
		if s.secret(n) == old[n] {
			t.Fatalf("%s was not changed", n)
		}
	}
	s.values["POSTGRES_PASSWORD_DSN (new)"] = s.secret("POSTGRES_PASSWORD_DSN")
	if s.secret("POSTGRES_PASSWORD_DSN") == old["POSTGRES_PASSWORD_DSN"] || !strings.Contains(s.secret("POSTGRES_PASSWORD_DSN"), s.secret("POSTGRES_PASSWORD")) {
		t.Error("the DSN was not re-derived from the new POSTGRES_PASSWORD")
	}

	// The data is still there.
	if got := s.psql("SELECT pair FROM trades WHERE id = 1;\n"); got != "BTCUSDT" {
		t.Errorf("row after the rotations: %q", got)
	}
	if got, err := redisCmd(redisAddr, s.secret("REDIS_PASSWORD"), "GET", "last_signal"); err != nil || got != "buy" {
		t.Errorf("redis key after the rotation: %q, %v", got, err)
	}
	// New passwords work, old ones are refused.
	if err := pgLoginOnce(s.pgPort, s.secret("POSTGRES_PASSWORD")); err != nil {
		t.Errorf("postgres, new password: %v", err)
	}
	var pe *pgconn.PgError
	if err := pgLoginOnce(s.pgPort, old["POSTGRES_PASSWORD"]); !errors.As(err, &pe) || pe.Code != "28P01" {
		t.Errorf("postgres, old password: %v, want refused", err)
	}
	if _, err := redisCmd(redisAddr, old["REDIS_PASSWORD"], "PING"); err == nil || !strings.Contains(err.Error(), "WRONGPASS") {
		t.Errorf("redis, old password: %v, want WRONGPASS", err)
	}
	if code, err := grafanaLogin(s.grafanaPort, s.secret("GRAFANA_PASSWORD")); err != nil || code != 200 {
		t.Errorf("grafana (fake), new password: %d %v", code, err)
	}
	if code, err := grafanaLogin(s.grafanaPort, old["GRAFANA_PASSWORD"]); err != nil || code != 401 {
		t.Errorf("grafana (fake), old password: %d %v", code, err)
	}
	// Only redis and cdb_ws (which read REDIS_PASSWORD at start) were recreated.
	after := s.containers()
	for svc, id := range before {
		recreated := after[svc] != id
		want := svc == "cdb_redis" || svc == "cdb_ws"
		if recreated != want {
			t.Errorf("%s recreated=%v, want %v", svc, recreated, want)
		}
	}
	// The next up knows which password each volume holds.
	r := s.run(ctx, s.env(), "up", "--json")
	if r.code != 0 {
		t.Fatalf("up after the rotations: exit %d", r.code)
	}
	if o := preflightOutcome(jsonReport(t, r), "volumes.secrets"); o.Status != "ok" || !strings.Contains(o.Detail, "holds the current POSTGRES_PASSWORD") || !strings.Contains(o.Detail, "holds the current GRAFANA_PASSWORD") {
		t.Errorf("volumes.secrets after the rotations: %+v", o)
	}
}

// With the volume there and the stack stopped, a file-only rotation would
// lock postgres out: rotate refuses and names the commands that rotate in
// place; the file is untouched. (The fake postgres suffices: nothing starts.)
func TestRotateRefusedWhileStackStopped(t *testing.T) {
	docker := testenv.NeedCommand(t, "docker")
	testenv.Need(t, exec.Command(docker, "info").Run() == nil, "a running Docker Engine (`docker info` failed)")
	s := newStackNamed(t, "cdbtrot", fmt.Sprintf(pgService, "", freePort(t)), "", "pg")
	vol := s.project + "_pg_data"
	if out, err := exec.Command(docker, "volume", "create", vol).CombinedOutput(); err != nil {
		t.Fatalf("docker volume create: %v: %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command(docker, "volume", "rm", "-f", vol).Run() })
	before, _ := os.ReadFile(filepath.Join(s.secrets, "POSTGRES_PASSWORD"))
	r := s.run(context.Background(), s.env(), "secrets", "rotate", "POSTGRES_PASSWORD")
	if r.code != 1 || !strings.Contains(r.stderr, "the stack is not running") || !strings.Contains(r.stderr, "`cdb-setup up --repo "+s.repo) ||
		!strings.Contains(r.stderr, "`cdb-setup secrets rotate POSTGRES_PASSWORD` again") || strings.Contains(r.stderr, "down -v") {
		t.Fatalf("exit %d:\n%s", r.code, r.stderr)
	}
	if after, _ := os.ReadFile(filepath.Join(s.secrets, "POSTGRES_PASSWORD")); string(after) != string(before) {
		t.Fatal("the file changed")
	}
}

// Observation 3 of issue 12: a rotated REDIS_PASSWORD looped with WRONGPASS,
// because compose does not recreate a container when only a secret file's
// content changed. Now `secrets rotate` recreates redis itself, and `up`
// recreates exactly the containers whose secret file changed behind them
// (here: changed by hand while the stack ran); the key survives both.
func TestRedisPasswordChangeReachesRedis(t *testing.T) {
	s := newRealStack(t)
	ctx := context.Background()
	s.up(ctx)
	redisAddr := fmt.Sprintf("127.0.0.1:%d", s.redisPort)
	if _, err := redisCmd(redisAddr, s.secret("REDIS_PASSWORD"), "SET", "k", "v1"); err != nil {
		t.Fatal(err)
	}
	if r := s.run(ctx, s.env(), "secrets", "rotate", "REDIS_PASSWORD"); r.code != 0 {
		t.Fatalf("rotate: exit %d", r.code)
	}
	s.values["REDIS_PASSWORD (rotated)"] = s.secret("REDIS_PASSWORD")
	if r := s.run(ctx, s.env(), "up"); r.code != 0 || strings.Contains(r.stderr, "WRONGPASS") {
		t.Fatalf("up after rotate: exit %d", r.code)
	}
	if got, err := redisCmd(redisAddr, s.secret("REDIS_PASSWORD"), "GET", "k"); err != nil || got != "v1" {
		t.Fatalf("after rotate: %q %v", got, err)
	}

	// The file changed behind the running containers.
	before := s.containers()
	s.setSecret("REDIS_PASSWORD", 0o644)
	// Observation 5: doctor must not say "No problems" while redis refuses
	// the file's password.
	r := s.run(ctx, s.env(), "doctor")
	if r.code != 1 || strings.Contains(r.stdout, "No problems") || !strings.Contains(r.stdout, "cdb_redis: the password from the secret file was refused") {
		t.Fatalf("doctor with redis refusing the file's password: exit %d", r.code)
	}
	r = s.run(ctx, s.env(), "up")
	if r.code != 0 || !strings.Contains(r.stderr, "Recreating cdb_redis: REDIS_PASSWORD changed after the container was created") {
		t.Fatalf("up after a hand edit: exit %d", r.code)
	}
	if got, err := redisCmd(redisAddr, s.secret("REDIS_PASSWORD"), "GET", "k"); err != nil || got != "v1" {
		t.Fatalf("after the hand edit: %q %v", got, err)
	}
	after := s.containers()
	for svc, id := range before {
		if recreated, want := after[svc] != id, svc == "cdb_redis" || svc == "cdb_ws"; recreated != want {
			t.Errorf("%s recreated=%v, want %v", svc, recreated, want)
		}
	}
}

// Observation 1 of issue 12 on a real PostgreSQL 15: rotating the file only
// (--force-volume, stack down) used to pass the preflight ("✓ initialised
// with the current POSTGRES_PASSWORD", since postgres moves the volume's
// CreatedAt at every start and stop) and fail only at login; and restoring
// the backup the tool pointed to was refused as stale. Now the first is
// stopped before anything starts and the second passes.
func TestVolumeTruthOnRealPostgres(t *testing.T) {
	s := newRealStack(t)
	ctx := context.Background()
	s.up(ctx)
	if r := s.run(ctx, s.env(), "down"); r.code != 0 {
		t.Fatalf("down: exit %d", r.code)
	}
	old := s.secret("POSTGRES_PASSWORD")
	if r := s.run(ctx, s.env(), "secrets", "rotate", "POSTGRES_PASSWORD", "--force-volume"); r.code != 0 {
		t.Fatalf("rotate --force-volume: exit %d", r.code)
	}
	s.values["POSTGRES_PASSWORD (rotated)"] = s.secret("POSTGRES_PASSWORD")
	r := s.run(ctx, s.env(), "up", "--json")
	o := preflightOutcome(jsonReport(t, r), "volumes.secrets")
	if r.code != 1 || o.Status != "fail" || !strings.Contains(o.Detail, "holds another password than the current POSTGRES_PASSWORD") || strings.Contains(o.Detail, "initialised on") {
		t.Fatalf("exit %d, volumes.secrets %+v", r.code, o)
	}
	// The fix names the backup holding the volume's password, data-keeping
	// options before deleting the volume.
	backups, _ := filepath.Glob(filepath.Join(s.secrets, ".backup", "POSTGRES_PASSWORD.*"))
	if len(backups) != 1 || !strings.Contains(o.Fix, "the backup "+backups[0]) || strings.Index(o.Fix, "--recreate-volume") < strings.Index(o.Fix, "the backup") {
		t.Fatalf("fix: %s", o.Fix)
	}
	b, err := os.ReadFile(backups[0])
	must(t, err)
	if string(b) != old {
		t.Fatal("the backup is not the old value")
	}
	// Restore the backup, as the fix says: up passes.
	must(t, os.WriteFile(filepath.Join(s.secrets, "POSTGRES_PASSWORD"), b, 0o644))
	if r := s.run(ctx, s.env(), "secrets", "fix"); r.code != 0 { // re-derive the DSN
		t.Fatalf("secrets fix: exit %d", r.code)
	}
	r = s.run(ctx, s.env(), "up", "--json")
	o = preflightOutcome(jsonReport(t, r), "volumes.secrets")
	if r.code != 0 || o.Status != "ok" {
		t.Fatalf("after restoring the backup: exit %d, volumes.secrets %+v", r.code, o)
	}
	// While postgres runs, the check asks it (SCRAM verifier), not the record.
	r = s.run(ctx, s.env(), "--dry-run", "up", "--json")
	if o := preflightOutcome(jsonReport(t, r), "volumes.secrets"); !strings.Contains(o.Detail, "checked against the role's SCRAM verifier") {
		t.Errorf("running postgres: %+v", o)
	}
}

// Lost secrets folder, kept volumes (issue 12, observation 2): doctor names
// `secrets recover`; `secrets init` stops instead of generating passwords
// the volumes would refuse; `secrets recover` (no keychain here) re-keys
// postgres and the fake Grafana to new passwords through their containers,
// and brings the stack up healthy with the row still there, in one command.
func TestRecoverLostFolderWithoutKeychain(t *testing.T) {
	s := newRealStack(t)
	ctx := context.Background()
	s.up(ctx)
	s.psql("CREATE TABLE trades (id int); INSERT INTO trades VALUES (7);\n")
	must(t, os.RemoveAll(s.secrets))
	env := s.env()
	delete(env, "DBUS_SESSION_BUS_ADDRESS") // no keychain, whatever the test runner has

	r := s.run(ctx, env, "doctor", "--json")
	if r.code != 1 || !strings.Contains(r.stdout, "cdb-setup secrets recover") {
		t.Fatalf("doctor: exit %d, does not name secrets recover:\n%s", r.code, r.stdout)
	}
	r = s.run(ctx, env, "secrets", "init")
	if r.code != 1 || !strings.Contains(r.stderr, "fix: cdb-setup secrets recover") {
		t.Fatalf("secrets init: exit %d", r.code)
	}
	if _, err := os.Stat(filepath.Join(s.secrets, "POSTGRES_PASSWORD")); err == nil {
		t.Fatal("secrets init generated POSTGRES_PASSWORD while its volume exists")
	}

	r = s.run(ctx, env, "secrets", "recover")
	for _, n := range []string{"POSTGRES_PASSWORD", "REDIS_PASSWORD", "GRAFANA_PASSWORD", "POSTGRES_PASSWORD_DSN"} {
		if b, err := os.ReadFile(filepath.Join(s.secrets, n)); err == nil {
			s.values[n+" (recovered)"] = string(b)
		}
	}
	if r.code != 0 {
		t.Fatalf("secrets recover: exit %d", r.code)
	}
	if !strings.Contains(r.stderr, "✓ POSTGRES_PASSWORD changed inside cdb_postgres (data kept)") || !strings.Contains(r.stderr, "✓ GRAFANA_PASSWORD changed inside cdb_grafana (data kept)") {
		t.Errorf("recover did not re-key in place")
	}
	if got := s.psql("SELECT id FROM trades;\n"); got != "7" {
		t.Errorf("row after recover: %q", got)
	}
	if err := pgLoginOnce(s.pgPort, s.secret("POSTGRES_PASSWORD")); err != nil {
		t.Errorf("postgres login with the recovered password: %v", err)
	}
	if _, err := redisCmd(fmt.Sprintf("127.0.0.1:%d", s.redisPort), s.secret("REDIS_PASSWORD"), "PING"); err != nil {
		t.Errorf("redis with the new password: %v", err)
	}
	if code, err := grafanaLogin(s.grafanaPort, s.secret("GRAFANA_PASSWORD")); err != nil || code != 200 {
		t.Errorf("grafana (fake): %d %v", code, err)
	}
	r = s.run(ctx, env, "doctor", "--json")
	if strings.Contains(r.stdout, "secrets recover") || !strings.Contains(r.stdout, "logged in to cdb_postgres") {
		t.Errorf("doctor after recover:\n%s", r.stdout)
	}
}

// The same lost folder with a keychain mirror (the real Secret Service:
// scripts/with-secret-service.sh): recover restores the very passwords the
// volumes hold, so nothing is re-keyed, and the stack comes up healthy with
// the row still there.
func TestRecoverLostFolderFromKeychain(t *testing.T) {
	testenv.NeedSecretService(t)
	s := newRealStack(t)
	ctx := context.Background()
	s.up(ctx)
	s.psql("CREATE TABLE trades (id int); INSERT INTO trades VALUES (8);\n")
	if r := s.run(ctx, s.env(), "keychain", "push"); r.code != 0 {
		t.Fatalf("keychain push: exit %d", r.code)
	}
	t.Cleanup(func() {
		_ = (&secrets.Keychain{}).Purge(context.Background(), platform.Record{Kind: secrets.KeychainRecordKind, Target: secrets.KeychainService(s.project, s.secrets),
			Data: map[string]string{"dir": s.secrets, "names": "POSTGRES_PASSWORD,REDIS_PASSWORD,GRAFANA_PASSWORD,POSTGRES_PASSWORD_DSN"}})
	})
	old := map[string]string{}
	for _, n := range []string{"POSTGRES_PASSWORD", "GRAFANA_PASSWORD"} {
		old[n] = s.secret(n)
	}
	must(t, os.RemoveAll(s.secrets))

	r := s.run(ctx, s.env(), "secrets", "recover")
	if r.code != 0 {
		t.Fatalf("secrets recover: exit %d", r.code)
	}
	if !strings.Contains(r.stderr, "POSTGRES_PASSWORD: restore from the keychain mirror") || strings.Contains(r.stderr, "changed inside") {
		t.Errorf("recover did not restore from the keychain")
	}
	// REDIS_PASSWORD came back from the keychain too: redis keeps running.
	if strings.Contains(r.stderr, "Recreating cdb_redis") {
		t.Errorf("redis was recreated although its password was restored")
	}
	for n, v := range old {
		if s.secret(n) != v {
			t.Errorf("%s is not the mirrored value", n)
		}
	}
	if got := s.psql("SELECT id FROM trades;\n"); got != "8" {
		t.Errorf("row after recover: %q", got)
	}
	if err := pgLoginOnce(s.pgPort, s.secret("POSTGRES_PASSWORD")); err != nil {
		t.Errorf("postgres login: %v", err)
	}
}

// A rotation whose proof fails is undone on the real postgres: the role
// gets its old verifier back and the files their old bytes, so the old
// password still works (old-or-new, never a lockout), and the output says
// which state it is in. The proof is made to fail by pointing the login
// check at a closed port after the start.
func TestRotateRollsBackOnRealPostgres(t *testing.T) {
	s := newRealStack(t)
	ctx := context.Background()
	s.up(ctx)
	old := s.secret("POSTGRES_PASSWORD")
	oldDSN := s.secret("POSTGRES_PASSWORD_DSN")
	manifest := filepath.Join(s.repo, "cdb-setup.yaml")
	b, err := os.ReadFile(manifest)
	must(t, err)
	closed := freePort(t)
	must(t, os.WriteFile(manifest, []byte(strings.Replace(string(b), fmt.Sprintf("127.0.0.1:%d", s.pgPort), fmt.Sprintf("127.0.0.1:%d", closed), 1)), 0o644))

	r := s.run(ctx, s.env(), "secrets", "rotate", "POSTGRES_PASSWORD")
	if r.code != 1 || !strings.Contains(r.stderr, "rolled back: the file holds the old POSTGRES_PASSWORD again and the services accept it") {
		t.Fatalf("rotate with a failing proof: exit %d", r.code)
	}
	if s.secret("POSTGRES_PASSWORD") != old || s.secret("POSTGRES_PASSWORD_DSN") != oldDSN {
		t.Fatal("the files were not restored")
	}
	if err := pgLoginOnce(s.pgPort, old); err != nil {
		t.Fatalf("the old password no longer works: %v", err)
	}
}

// The wizard's guard: its plan fails, naming `secrets recover`, when a
// volume keeps a password whose file is missing; it passes once the volume
// is gone. (Docker only: nothing starts.)
func TestWizardVolumeGuard(t *testing.T) {
	docker := testenv.NeedCommand(t, "docker")
	testenv.Need(t, exec.Command(docker, "info").Run() == nil, "a running Docker Engine (`docker info` failed)")
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	project := "cdbtguard" + hex.EncodeToString(b)
	dir := testenv.TempDir(t)
	cat := &secrets.Catalogue{Dir: dir, Secrets: []secrets.Secret{{Name: "POSTGRES_PASSWORD", Path: filepath.Join(dir, "POSTGRES_PASSWORD"),
		Policy: manifest.Secret{Kind: manifest.KindGenerated, Volume: "postgres_data"}}}}
	home, _ := os.UserHomeDir()
	g := &volumeGuard{env: platform.EnvironmentFrom(os.Environ()), home: home, goos: "linux", cat: cat, project: project}
	if c, err := g.Plan(context.Background()); err != nil || !c.None {
		t.Fatalf("no volume: %+v %v", c, err)
	}
	vol := project + "_postgres_data"
	if out, err := exec.Command(docker, "volume", "create", vol).CombinedOutput(); err != nil {
		t.Fatalf("docker volume create: %v: %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command(docker, "volume", "rm", "-f", vol).Run() })
	_, err := g.Plan(context.Background())
	if err == nil || !strings.Contains(err.Error(), "POSTGRES_PASSWORD (kept in "+vol+")") || !strings.Contains(step.FixOf(err), "cdb-setup secrets recover") {
		t.Fatalf("volume kept, file missing: %v", err)
	}
	must(t, os.WriteFile(filepath.Join(dir, "POSTGRES_PASSWORD"), []byte("x"), 0o644))
	if _, err := g.Plan(context.Background()); err != nil {
		t.Fatalf("file present: %v", err)
	}
}
