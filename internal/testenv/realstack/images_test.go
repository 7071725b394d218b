package realstack

// The contract of the real-server images (scripts/server-images.sh) that the
// tests in other packages rely on: the postgres entrypoint behaves like the
// official image's, the redis image like the official redis image.

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/claire-de-binare/cdb-setup/internal/testenv"
)

func docker(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command("docker", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("docker %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// waitLog waits (up to 3 minutes: patience, not an assertion) until the
// container's log holds want n times.
func waitLog(t *testing.T, name, want string, n int) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	for time.Now().Before(deadline) {
		out, _ := exec.Command("docker", "logs", name).CombinedOutput()
		if strings.Count(string(out), want) >= n {
			return
		}
		time.Sleep(500 * time.Millisecond)
	}
	out, _ := exec.Command("docker", "logs", "--tail", "40", name).CombinedOutput()
	t.Fatalf("%s never logged %q ×%d:\n%s", name, want, n, out)
}

func TestPostgresImageFollowsOfficialEntrypoint(t *testing.T) {
	testenv.NeedImage(t, testenv.PostgresImage)
	name := "cdbtimg-pg-" + randomHex(4)
	vol := name + "-data"
	t.Cleanup(func() {
		_ = exec.Command("docker", "rm", "-f", name).Run()
		_ = exec.Command("docker", "volume", "rm", "-f", vol).Run()
	})
	dir := testenv.TempDir(t)
	initdb := filepath.Join(dir, "initdb")
	for _, err := range []error{
		os.Chmod(dir, 0o755),
		os.Mkdir(initdb, 0o755),
		os.WriteFile(filepath.Join(dir, "pw"), []byte("pw"+randomHex(16)), 0o644),
		os.WriteFile(filepath.Join(initdb, "01-marker.sql"), []byte("CREATE TABLE marker (n int); INSERT INTO marker VALUES (1);\n"), 0o644),
		// Not executable: sourced, with the official image's helpers at hand.
		os.WriteFile(filepath.Join(initdb, "02-more.sh"), []byte(`docker_process_sql <<<'INSERT INTO marker VALUES (2);'`+"\n"), 0o644),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	docker(t, "run", "-d", "--name", name,
		"-e", "POSTGRES_PASSWORD_FILE=/run/secrets/pw", "-e", "POSTGRES_USER=trader", "-e", "POSTGRES_DB=trades",
		"-v", vol+":/var/lib/postgresql/data", "-v", filepath.Join(dir, "pw")+":/run/secrets/pw:ro", "-v", initdb+":/docker-entrypoint-initdb.d:ro",
		testenv.PostgresImage, "-c", "max_connections=42") // extra args go to postgres
	waitLog(t, name, "database system is ready to accept connections", 2) // the temporary server, then the real one
	psql := func(sql string) string {
		return docker(t, "exec", name, "psql", "-U", "trader", "-d", "trades", "-tAc", sql)
	}
	if got := psql("SELECT string_agg(n::text, ',' ORDER BY n) FROM marker"); got != "1,2" {
		t.Errorf("init files: marker holds %q, want 1,2", got)
	}
	if got := psql("SHOW max_connections"); got != "42" {
		t.Errorf("extra argument not passed to postgres: max_connections %s", got)
	}
	if got := psql("SHOW password_encryption"); got != "scram-sha-256" {
		t.Errorf("password_encryption %s", got)
	}
	if got := psql("SHOW listen_addresses"); got != "*" {
		t.Errorf("listen_addresses %s", got)
	}
	if got := psql("SELECT rolpassword LIKE 'SCRAM-SHA-256$%' FROM pg_authid WHERE rolname = 'trader'"); got != "t" {
		t.Errorf("the password from POSTGRES_PASSWORD_FILE is not a SCRAM verifier: %s", got)
	}
	hba := docker(t, "exec", name, "sh", "-c", `tail -n 1 "$PGDATA/pg_hba.conf"`)
	if hba != "host all all all scram-sha-256" {
		t.Errorf("pg_hba.conf ends with %q", hba)
	}
	// The server runs as Debian's postgres user, whatever its uid is.
	if pid1, pg := docker(t, "exec", name, "sh", "-c", `awk '/^Uid:/ {print $2}' /proc/1/status`), docker(t, "exec", name, "id", "-u", "postgres"); pid1 != pg || pid1 == "0" {
		t.Errorf("PID 1 runs as uid %s, postgres is %s", pid1, pg)
	}
	if st := docker(t, "inspect", "--format", "{{.State.Health.Status}}", name); st == "unhealthy" {
		t.Errorf("healthcheck: %s", st)
	}

	// A second start finds PG_VERSION and skips initialisation: init files
	// run once.
	docker(t, "restart", name)
	waitLog(t, name, "Skipping initialization", 1)
	waitLog(t, name, "database system is ready to accept connections", 3)
	if got := psql("SELECT count(*) FROM marker"); got != "2" {
		t.Errorf("after a restart marker has %s rows, want 2", got)
	}
}

func TestRedisImageFollowsOfficialEntrypoint(t *testing.T) {
	testenv.NeedImage(t, testenv.RedisImage)
	name := "cdbtimg-redis-" + randomHex(4)
	vol := name + "-data"
	t.Cleanup(func() {
		_ = exec.Command("docker", "rm", "-f", name).Run()
		_ = exec.Command("docker", "volume", "rm", "-f", vol).Run()
	})
	// A first argument starting with "-" means redis-server; as root the
	// entrypoint drops to the redis user and /data is the working folder.
	docker(t, "run", "-d", "--name", name, "-v", vol+":/data", testenv.RedisImage, "--appendonly", "yes")
	waitLog(t, name, "Ready to accept connections", 1)
	if got := docker(t, "exec", name, "redis-cli", "ping"); got != "PONG" {
		t.Fatalf("PING: %q", got)
	}
	docker(t, "exec", name, "redis-cli", "set", "k", "v")
	if pid1, rd := docker(t, "exec", name, "sh", "-c", `awk '/^Uid:/ {print $2}' /proc/1/status`), docker(t, "exec", name, "id", "-u", "redis"); pid1 != rd || pid1 == "0" {
		t.Errorf("PID 1 runs as uid %s, redis is %s", pid1, rd)
	}
	// Data persists in the volume across a restart.
	docker(t, "restart", name)
	waitLog(t, name, "Ready to accept connections", 2)
	if got := docker(t, "exec", name, "redis-cli", "get", "k"); got != "v" {
		t.Errorf("after a restart k = %q, want v", got)
	}
}
