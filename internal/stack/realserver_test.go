package stack

// Tests against the real PostgreSQL 15 and Redis 7 servers (Debian's
// packages, images built by scripts/server-images.sh) through the fixture in
// internal/testenv/realstack: the login checks and the diagnosis see what a
// real server answers and logs, not what a fake was written to print.

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/client"

	"github.com/claire-de-binare/cdb-setup/internal/manifest"
	"github.com/claire-de-binare/cdb-setup/internal/testenv/realstack"
)

func engineClient(t *testing.T) *client.Client {
	t.Helper()
	c, err := client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// waitHealth polls the container's health until it is want (or the test's
// patience of 3 minutes ends: a wait, not a timed assertion).
func waitHealth(t *testing.T, id, want string) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	last := ""
	for time.Now().Before(deadline) {
		out, err := exec.Command("docker", "inspect", "--format", "{{.State.Health.Status}}", id).Output()
		if err == nil {
			last = strings.TrimSpace(string(out))
			if last == want {
				return
			}
		}
		time.Sleep(500 * time.Millisecond)
	}
	logs, _ := exec.Command("docker", "logs", "--tail", "30", id).CombinedOutput()
	t.Fatalf("container %.12s never became %s (last %q); logs:\n%s", id, want, last, logs)
}

func upService(t *testing.T, st *realstack.Stack, service string) string {
	t.Helper()
	ctx := context.Background()
	if out, err := st.Compose(ctx, "up", "-d", service); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	id := st.ContainerID(ctx, service)
	if id == "" {
		t.Fatalf("no container for %s", service)
	}
	return id
}

func pgCheck(st *realstack.Stack) manifest.Check {
	return manifest.Check{Kind: "postgres-login", Service: realstack.Postgres, Secret: "POSTGRES_PASSWORD",
		Address: fmt.Sprintf("127.0.0.1:%d", st.PostgresPort), User: realstack.PostgresUser, Database: realstack.PostgresDB}
}

func redisCheck(st *realstack.Stack) manifest.Check {
	return manifest.Check{Kind: "redis-auth", Service: realstack.Redis, Secret: "REDIS_PASSWORD", Address: fmt.Sprintf("127.0.0.1:%d", st.RedisPort)}
}

func noLeak(t *testing.T, st *realstack.Stack, texts ...string) {
	t.Helper()
	all := strings.Join(texts, "\n")
	for name, v := range st.Passwords {
		if strings.Contains(all, v) {
			t.Errorf("the value of %s appeared in the output", name)
		}
	}
}

// Observation 4 of issue 12: while the entrypoint runs 15 s of init SQL on its
// socket-only temporary server, pg_isready (the healthcheck) passes but TCP
// logins are dropped. The login check must wait for the real server within
// the service's budget, not blame the ports.
func TestLoginWaitsForPostgresInitSQL(t *testing.T) {
	st := realstack.New(t, realstack.Options{InitSQL: map[string]string{"02-slow.sql": "SELECT pg_sleep(15);\n"}})
	id := upService(t, st, realstack.Postgres)
	waitHealth(t, id, "healthy")

	// The situation the old check failed in: healthy, init still running,
	// and one TCP attempt fails at the connection level.
	logs, _ := exec.Command("docker", "logs", id).CombinedOutput()
	if strings.Contains(string(logs), "init process complete") {
		t.Fatalf("the init SQL had finished before the check could start; logs:\n%s", logs)
	}
	pw := st.Passwords["POSTGRES_PASSWORD"]
	ctx1, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	err := postgresLogin(ctx1, pgCheck(st), pw, nil)
	cancel()
	var ny notYet
	if !errors.As(err, &ny) {
		t.Fatalf("a single login during init: %v; want a connection-level failure", err)
	}
	t.Logf("one attempt during init: %v", err)

	ci, err := engineClient(t).ContainerInspect(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	budget := ContainerBudget(ci)
	r := RunFunctional(context.Background(), pgCheck(st), filepath.Join(st.SecretsDir, "POSTGRES_PASSWORD"), "cdb-setup up", st.Volume(realstack.PostgresVolume), budget)
	if !r.OK {
		t.Fatalf("login check failed during first initialisation (budget %s): %s; fix: %s", budget, r.Detail, r.Fix)
	}
	logs, _ = exec.Command("docker", "logs", id).CombinedOutput()
	if !strings.Contains(string(logs), "init process complete") {
		t.Errorf("the check passed before the real server started; logs:\n%s", logs)
	}
	noLeak(t, st, r.Detail, r.Fix)
}

// The real server asks for SCRAM-SHA-256 over TCP (the entrypoint's
// `host all all all scram-sha-256`): the right password logs in, a wrong one
// is refused at once with the server's own "password authentication failed",
// not retried as a connection problem.
func TestPostgresLoginSCRAMOnRealServer(t *testing.T) {
	st := realstack.New(t, realstack.Options{})
	id := upService(t, st, realstack.Postgres)
	waitHealth(t, id, "healthy")
	secret := filepath.Join(st.SecretsDir, "POSTGRES_PASSWORD")

	// Healthy may still mean the entrypoint's temporary server: the login
	// waits for the real one (budget), then the files are final.
	if r := RunFunctional(context.Background(), pgCheck(st), secret, "cdb-setup up", "", 2*time.Minute); !r.OK {
		t.Fatalf("right password refused: %s", r.Detail)
	}
	// The role's verifier and the host rule are SCRAM (read over the trust socket).
	out, err := exec.Command("docker", "exec", id, "psql", "-U", realstack.PostgresUser, "-d", realstack.PostgresDB, "-tAc",
		"SELECT rolpassword LIKE 'SCRAM-SHA-256$%' FROM pg_authid WHERE rolname = current_user").CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "t" {
		t.Fatalf("the role's password is not a SCRAM verifier: %v %s", err, out)
	}
	hba, err := exec.Command("docker", "exec", id, "sh", "-c", `grep -v '^#' "$PGDATA/pg_hba.conf" | grep -v '^$'`).CombinedOutput()
	if err != nil || !strings.Contains(string(hba), "host all all all scram-sha-256") || !strings.Contains(string(hba), "local   all             all                                     trust") {
		t.Fatalf("pg_hba.conf: %v\n%s", err, hba)
	}

	st.NewPassword("POSTGRES_PASSWORD")
	r := RunFunctional(context.Background(), pgCheck(st), secret, "cdb-setup up", st.Volume(realstack.PostgresVolume), 30*time.Second)
	if r.OK || !strings.Contains(r.Detail, "password authentication failed") || !strings.Contains(r.Fix, "--recreate-volume "+st.Volume(realstack.PostgresVolume)) {
		t.Fatalf("wrong password: ok=%v %s; fix %s", r.OK, r.Detail, r.Fix)
	}
	if strings.Contains(r.Detail, "still failing") {
		t.Errorf("an authentication error was retried as a connection problem: %s", r.Detail)
	}
	noLeak(t, st, r.Detail, r.Fix)
}

// Redis 7: the right password answers +OK/PONG, a wrong one -WRONGPASS,
// which is a refused password (not retried).
func TestRedisAuthOnRealServer(t *testing.T) {
	st := realstack.New(t, realstack.Options{})
	id := upService(t, st, realstack.Redis)
	waitHealth(t, id, "healthy")
	secret := filepath.Join(st.SecretsDir, "REDIS_PASSWORD")
	if r := RunFunctional(context.Background(), redisCheck(st), secret, "cdb-setup up", "", 30*time.Second); !r.OK {
		t.Fatalf("right password refused: %s", r.Detail)
	}
	st.NewPassword("REDIS_PASSWORD") // rewritten in place: the mounted file shows it
	// Why the login check exists: the CDB-style probe still passes (redis-cli
	// 7.0 exits 0 after AUTH failed and NOAUTH).
	probe, err := exec.Command("docker", "exec", id, "sh", "-c", `REDISCLI_AUTH="$(cat /run/secrets/redis_password)" redis-cli ping`).CombinedOutput()
	if err != nil || !strings.Contains(string(probe), "WRONGPASS") {
		t.Errorf("the CDB-style probe with a wrong password: %v %q (want exit 0 and WRONGPASS)", err, probe)
	}
	r := RunFunctional(context.Background(), redisCheck(st), secret, "cdb-setup up", "", 30*time.Second)
	if r.OK || !strings.Contains(r.Detail, "WRONGPASS") || !strings.Contains(r.Fix, "cdb-setup secrets check") {
		t.Fatalf("wrong password: ok=%v %s; fix %s", r.OK, r.Detail, r.Fix)
	}
	noLeak(t, st, r.Detail, r.Fix)
}

// A wrong POSTGRES_PASSWORD file against a volume initialised with another
// one, on the real server: a healthcheck that logs in over TCP (as an app
// would; to the container's own address, since the official image's pg_hba
// trusts 127.0.0.1 inside the container) fails, the server logs its own FATAL line, and diagnosis names the
// volume.
func TestDiagnoseRealPostgresRefusesPassword(t *testing.T) {
	st := realstack.New(t, realstack.Options{})
	override := filepath.Join(st.Repo, "compose", "login-health.yml")
	if err := os.WriteFile(override, []byte(`services:
  cdb_postgres:
    healthcheck:
      test: ["CMD-SHELL", "PGPASSWORD=\"$$(cat /run/secrets/postgres_password)\" psql -h \"$$(hostname -i)\" -U claire_user -d claire_de_binare -tAc 'SELECT 1'"]
      interval: 1s
      timeout: 3s
      retries: 3
      start_period: 5s
`), 0o644); err != nil {
		t.Fatal(err)
	}
	st.ComposeFiles = append(st.ComposeFiles, override)
	ctx := context.Background()
	waitHealth(t, upService(t, st, realstack.Postgres), "healthy")
	if out, err := st.Compose(ctx, "stop", realstack.Postgres); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	st.NewPassword("POSTGRES_PASSWORD")
	if out, err := st.Compose(ctx, "up", "-d", "--force-recreate", realstack.Postgres); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	id := st.ContainerID(ctx, realstack.Postgres)
	waitHealth(t, id, "unhealthy")

	secret := filepath.Join(st.SecretsDir, "POSTGRES_PASSWORD")
	vol := st.Volume(realstack.PostgresVolume)
	in := DiagnoseInput{API: engineClient(t), Project: st.Project, SecretsDir: st.SecretsDir, ComposeDir: filepath.Dir(st.ComposeFile), Rerun: "cdb-setup up",
		Services: map[string]ServiceFacts{realstack.Postgres: {Secrets: []SecretMount{{Name: "POSTGRES_PASSWORD", Path: secret, Target: "/run/secrets/postgres_password", Volume: vol}}}}}
	d := Diagnose(ctx, in, Service{Name: realstack.Postgres, ContainerID: id, Outcome: Failed, Reason: ReasonUnhealthy})
	logs := strings.Join(d.Logs, "\n")
	// (Diagnosis shows log lines with their whitespace collapsed.)
	if !strings.Contains(logs, `FATAL: password authentication failed for user "claire_user"`) {
		t.Errorf("the server's own FATAL line is not among the evidence:\n%s", logs)
	}
	if !strings.Contains(d.ProbeOutput, "password authentication failed") {
		t.Errorf("probe output: %q", d.ProbeOutput)
	}
	if d.Cause != CauseStaleVolume || !strings.Contains(d.Fix, "--recreate-volume "+vol) {
		t.Errorf("cause %q (%s), fix %q", d.Cause, d.Explanation, d.Fix)
	}
	noLeak(t, st, logs, d.ProbeOutput, d.Explanation, d.Fix)
}

// A wrong Redis password on the real server: redis keeps running with the
// password it started with while the secret file changed (compose does not
// recreate it for a content change); a healthcheck that authenticates with the
// file and insists on PONG gets WRONGPASS, and diagnosis says the password is
// refused. (CDB's own probe, `redis-cli -a … ping`, exits 0 even on NOAUTH with
// redis-cli 7.0, so there the functional check is what notices:
// TestRedisAuthOnRealServer.)
func TestDiagnoseRealRedisWrongPass(t *testing.T) {
	st := realstack.New(t, realstack.Options{})
	override := filepath.Join(st.Repo, "compose", "strict-health.yml")
	if err := os.WriteFile(override, []byte(`services:
  cdb_redis:
    healthcheck:
      test: ["CMD", "sh", "-c", "REDISCLI_AUTH=\"$$(cat /run/secrets/redis_password)\" redis-cli ping | grep -q PONG"]
`), 0o644); err != nil {
		t.Fatal(err)
	}
	st.ComposeFiles = append(st.ComposeFiles, override)
	ctx := context.Background()
	id := upService(t, st, realstack.Redis)
	waitHealth(t, id, "healthy")
	st.NewPassword("REDIS_PASSWORD") // rewritten in place: the mounted file shows it
	waitHealth(t, id, "unhealthy")

	secret := filepath.Join(st.SecretsDir, "REDIS_PASSWORD")
	in := DiagnoseInput{API: engineClient(t), Project: st.Project, SecretsDir: st.SecretsDir, Rerun: "cdb-setup up",
		Services: map[string]ServiceFacts{realstack.Redis: {Secrets: []SecretMount{{Name: "REDIS_PASSWORD", Path: secret, Target: "/run/secrets/redis_password"}}}}}
	d := Diagnose(ctx, in, Service{Name: realstack.Redis, ContainerID: id, Outcome: Failed, Reason: ReasonUnhealthy})
	if !strings.Contains(d.ProbeOutput, "WRONGPASS") {
		t.Errorf("probe output: %q", d.ProbeOutput)
	}
	if d.Cause != CausePasswordMismatch || !strings.Contains(d.Fix, "cdb-setup secrets check") {
		t.Errorf("cause %q (%s), fix %q", d.Cause, d.Explanation, d.Fix)
	}
	noLeak(t, st, strings.Join(d.Logs, "\n"), d.ProbeOutput, d.Explanation, d.Fix)
}
