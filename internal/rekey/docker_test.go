package rekey

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/client"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/claire-de-binare/cdb-setup/internal/platform"
	"github.com/claire-de-binare/cdb-setup/internal/stack"
	"github.com/claire-de-binare/cdb-setup/internal/testenv"
)

// The real PostgreSQL 15 and Redis 7 images scripts/server-images.sh builds
// from Debian's packages.
const (
	postgresImage = "cdb-setup-test/postgres:15"
	redisImage    = "cdb-setup-test/redis:7"
)

func needImage(t *testing.T, tag string) string {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("the real-server images are Linux images")
	}
	docker := testenv.NeedCommand(t, "docker")
	testenv.Need(t, exec.Command(docker, "image", "inspect", tag).Run() == nil,
		fmt.Sprintf("the image %s (scripts/server-images.sh builds it)", tag))
	return docker
}

func engine(t *testing.T) *client.Client {
	t.Helper()
	home, _ := os.UserHomeDir()
	c, _, err := stack.Connect(context.Background(), platform.EnvironmentFrom(os.Environ()), home, runtime.GOOS)
	testenv.Need(t, err == nil, fmt.Sprintf("a running Docker Engine (%v)", err))
	t.Cleanup(func() { c.Close() })
	return c
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// docker runs the docker CLI (no secret is ever in its arguments).
func docker(t *testing.T, bin string, args ...string) string {
	t.Helper()
	out, err := exec.Command(bin, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("docker %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// startPostgres runs the real postgres image with POSTGRES_PASSWORD_FILE on
// a fresh volume and returns the container ID and its host address.
func startPostgres(t *testing.T, bin, password string) (id, addr string) {
	dir := t.TempDir()
	os.Chmod(dir, 0o755)
	pwFile := filepath.Join(dir, "POSTGRES_PASSWORD")
	if err := os.WriteFile(pwFile, []byte(password), 0o644); err != nil {
		t.Fatal(err)
	}
	name := "cdbtrekey" + randHex(4)
	id = docker(t, bin, "run", "-d", "--name", name, "-v", name+":/var/lib/postgresql/data",
		"-v", pwFile+":/run/secrets/postgres_password:ro",
		"-e", "POSTGRES_PASSWORD_FILE=/run/secrets/postgres_password", "-e", "POSTGRES_USER=claire_user", "-e", "POSTGRES_DB=claire_de_binare",
		"-p", "127.0.0.1::5432", postgresImage)
	t.Cleanup(func() {
		exec.Command(bin, "rm", "-f", "-v", id).Run()
		exec.Command(bin, "volume", "rm", "-f", name).Run()
	})
	port := docker(t, bin, "port", id, "5432/tcp")
	_, p, _ := net.SplitHostPort(strings.Fields(port)[0])
	return id, "127.0.0.1:" + p
}

// pgLogin logs in over TCP (SCRAM), retrying only while the server is not
// accepting connections yet. It returns nil, an auth error, or the last
// connection error once the bound is spent.
func pgLogin(addr, password string) error {
	host, port, _ := net.SplitHostPort(addr)
	cfg, err := pgconn.ParseConfig(fmt.Sprintf("host=%s port=%s user=claire_user dbname=claire_de_binare sslmode=disable connect_timeout=5", host, port))
	if err != nil {
		return err
	}
	cfg.Password = password
	var last error
	for range 300 {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		c, err := pgconn.ConnectConfig(ctx, cfg)
		cancel()
		if err == nil {
			return c.Close(context.Background())
		}
		var pe *pgconn.PgError
		if errors.As(err, &pe) && pe.Code == "28P01" {
			return errAuth
		}
		last = err
		time.Sleep(200 * time.Millisecond)
	}
	return last
}

var errAuth = errors.New("password authentication failed")

// TestPostgresRekeyOnRealServer changes the role's password inside a real
// PostgreSQL 15 through the local socket, with a verifier computed here;
// the row survives, the new password logs in, the old one is refused, and
// the plain password is in no log and no exec's argv.
func TestPostgresRekeyOnRealServer(t *testing.T) {
	bin := needImage(t, postgresImage)
	api := engine(t)
	ctx := context.Background()
	oldPW, newPW := "old"+randHex(12), "new"+randHex(12)
	id, addr := startPostgres(t, bin, oldPW)
	if err := pgLogin(addr, oldPW); err != nil {
		t.Fatalf("first login: %v", err)
	}
	pg := Postgres{API: api, Container: id, User: "claire_user", Database: "claire_de_binare"}
	if _, err := pg.psql(ctx, "CREATE TABLE trades (id int); INSERT INTO trades VALUES (42);\n"); err != nil {
		t.Fatal(err)
	}

	// The verifier check agrees with the server.
	if ok, err := pg.Holds(ctx, []byte(oldPW)); err != nil || !ok {
		t.Fatalf("Holds(old) = %v, %v", ok, err)
	}
	if ok, err := pg.Holds(ctx, []byte(newPW)); err != nil || ok {
		t.Fatalf("Holds(new) = %v, %v", ok, err)
	}
	before, err := pg.Verifier(ctx)
	if err != nil {
		t.Fatal(err)
	}

	if err := pg.SetPassword(ctx, []byte(newPW)); err != nil {
		t.Fatal(err)
	}
	if err := pgLogin(addr, newPW); err != nil {
		t.Fatalf("login with the new password: %v", err)
	}
	if err := pgLogin(addr, oldPW); !errors.Is(err, errAuth) {
		t.Fatalf("login with the old password: %v, want refused", err)
	}
	out, err := pg.psql(ctx, "SELECT id FROM trades;\n")
	if err != nil || strings.TrimSpace(out) != "42" {
		t.Fatalf("row after re-key: %q, %v", out, err)
	}

	// Rollback restores the exact old verifier: the old password works again.
	if err := pg.SetVerifier(ctx, before); err != nil {
		t.Fatal(err)
	}
	if err := pgLogin(addr, oldPW); err != nil {
		t.Fatalf("old password after rollback: %v", err)
	}

	// Neither password shows in the server's log, nor in any exec's argv
	// (the Engine keeps the execs of a container).
	logs := docker(t, bin, "logs", id)
	insp := docker(t, bin, "inspect", id)
	for _, pw := range []string{oldPW, newPW} {
		if strings.Contains(logs, pw) || strings.Contains(insp, pw) {
			t.Fatal("a password appeared in the container's log or inspect output")
		}
	}
	ci, err := api.ContainerInspect(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	for _, eid := range ci.ExecIDs {
		ei, err := api.ContainerExecInspect(ctx, eid)
		if err == nil && strings.Contains(ei.ExecID+fmt.Sprint(ei), newPW) {
			t.Fatal("a password appeared in an exec")
		}
	}
}

// Where the local socket is not trusted, SetPassword stops with
// ErrLocalNotTrusted and changes nothing.
func TestPostgresLocalNotTrusted(t *testing.T) {
	bin := needImage(t, postgresImage)
	api := engine(t)
	ctx := context.Background()
	pw := "pw" + randHex(12)
	id, addr := startPostgres(t, bin, pw)
	if err := pgLogin(addr, pw); err != nil {
		t.Fatal(err)
	}
	pg := Postgres{API: api, Container: id, User: "claire_user", Database: "claire_de_binare"}
	// Switch local connections to scram and reload (as a hardened setup would).
	if _, err := pg.psql(ctx, "SELECT 1;\n"); err != nil {
		t.Fatal(err)
	}
	docker(t, bin, "exec", id, "sh", "-c", `sed -i 's/^local\(.*\)trust/local\1scram-sha-256/' "$PGDATA/pg_hba.conf"`)
	if _, err := pg.psql(ctx, "SELECT pg_reload_conf();\n"); err != nil {
		t.Fatal(err)
	}
	// The reload is asynchronous: wait until psql is refused (bounded).
	var err error
	for range 100 {
		if _, err = pg.psql(ctx, "SELECT 1;\n"); err != nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	err = pg.SetPassword(ctx, []byte("x"+pw))
	if !errors.Is(err, ErrLocalNotTrusted) {
		t.Fatalf("SetPassword on a non-trusted socket: %v", err)
	}
	if err := pgLogin(addr, pw); err != nil {
		t.Fatalf("the old password stopped working: %v", err)
	}

	// With the current password, cdb-setup logs in over TCP itself (SCRAM
	// from this process; nothing in argv or env) and sends the verifier.
	pg.Address, pg.Password = addr, []byte(pw)
	before, err := pg.Verifier(ctx)
	if err != nil {
		t.Fatalf("verifier over TCP: %v", err)
	}
	newPW := "new" + randHex(12)
	if err := pg.SetPassword(ctx, []byte(newPW)); err != nil {
		t.Fatalf("SetPassword over TCP: %v", err)
	}
	if err := pgLogin(addr, newPW); err != nil {
		t.Fatalf("new password: %v", err)
	}
	if err := pgLogin(addr, pw); !errors.Is(err, errAuth) {
		t.Fatalf("old password after re-key: %v", err)
	}
	pg.Password = []byte(newPW)
	if err := pg.SetVerifier(ctx, before); err != nil {
		t.Fatalf("rollback over TCP: %v", err)
	}
	if err := pgLogin(addr, pw); err != nil {
		t.Fatalf("old password after rollback: %v", err)
	}
	if logs := docker(t, bin, "logs", id); strings.Contains(logs, pw) || strings.Contains(logs, newPW) {
		t.Fatal("a password appeared in the server's log")
	}
}
