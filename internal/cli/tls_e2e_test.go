package cli

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/claire-de-binare/cdb-setup/internal/checks"
	"github.com/claire-de-binare/cdb-setup/internal/testenv/realstack"
	"github.com/claire-de-binare/cdb-setup/internal/tlscert"
)

// checkOutcome finds a post-start check by ID.
func checkOutcome(rep upReport, id string) checks.Outcome {
	for _, c := range rep.Checks {
		if c.ID == id {
			return c
		}
	}
	return checks.Outcome{}
}

// provePostgresTLS logs in from outside cdb-setup with sslmode=verify-full
// against the generated CA and asks the server whether the session is TLS.
func provePostgresTLS(t *testing.T, st *realstack.Stack) {
	t.Helper()
	ca := filepath.Join(tlscert.Dir(st.SecretsDir), tlscert.CAFile)
	cfg, err := pgconn.ParseConfig(fmt.Sprintf("host=127.0.0.1 port=%d user=%s dbname=%s sslmode=verify-full sslrootcert=%s", st.PostgresPort, realstack.PostgresUser, realstack.PostgresDB, ca))
	must(t, err)
	cfg.Password = st.Passwords["POSTGRES_PASSWORD"]
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgconn.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatalf("verify-full login: %v", err)
	}
	defer conn.Close(ctx)
	res, err := conn.Exec(ctx, "SELECT ssl::text || ' ' || version FROM pg_stat_ssl WHERE pid = pg_backend_pid()").ReadAll()
	must(t, err)
	if got := string(res[0].Rows[0][0]); !strings.HasPrefix(got, "true TLSv1.") {
		t.Errorf("pg_stat_ssl of this session: %q", got)
	}
}

// proveRedisTLS: AUTH inside a verified TLS connection answers OK; a plain
// connection gets nothing back. It returns the certificate redis served.
func proveRedisTLS(t *testing.T, st *realstack.Stack) *x509.Certificate {
	t.Helper()
	addr := fmt.Sprintf("127.0.0.1:%d", st.RedisPort)
	caPEM, err := os.ReadFile(filepath.Join(tlscert.Dir(st.SecretsDir), tlscert.CAFile))
	must(t, err)
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 10 * time.Second}, "tcp", addr, &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"})
	if err != nil {
		t.Fatalf("TLS to redis: %v", err)
	}
	defer conn.Close()
	pw := st.Passwords["REDIS_PASSWORD"]
	fmt.Fprintf(conn, "*2\r\n$4\r\nAUTH\r\n$%d\r\n%s\r\n", len(pw), pw)
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil || line != "+OK\r\n" {
		t.Errorf("AUTH over TLS: %q %v", line, err)
	}
	plain, err := net.DialTimeout("tcp", addr, 10*time.Second)
	must(t, err)
	defer plain.Close()
	_ = plain.SetDeadline(time.Now().Add(5 * time.Second))
	_, _ = plain.Write([]byte("PING\r\n"))
	buf := make([]byte, 16)
	if n, _ := plain.Read(buf); n > 0 && (buf[0] == '+' || buf[0] == '-') {
		t.Errorf("plain-text PING answered %q", buf[:n])
	}
	return conn.ConnectionState().PeerCertificates[0]
}

// redisTLSCmd runs one redis command after AUTH over a TLS connection
// verified against the generated CA.
func redisTLSCmd(t *testing.T, st *realstack.Stack, pw string, args ...string) (string, error) {
	t.Helper()
	caPEM, err := os.ReadFile(filepath.Join(tlscert.Dir(st.SecretsDir), tlscert.CAFile))
	must(t, err)
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 10 * time.Second}, "tcp", fmt.Sprintf("127.0.0.1:%d", st.RedisPort), &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"})
	if err != nil {
		return "", err
	}
	return redisCmdOn(conn, pw, args...)
}

func dockerOut(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command("docker", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("docker %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// `tls init && up --tls` from scratch on the real PostgreSQL 15 and Redis 7
// images, with the CDB-shaped tls.yml (its flaws kept): healthy, postgres
// verify-full and redis AUTH over TLS proven by cdb-setup's checks and from
// outside, plain-text redis refused, the key inside the container owned by
// postgres and 0600 though the host file is the test user's, and no secret
// value in any container's environment.
func TestTLSInitThenUpTLSFromScratch(t *testing.T) {
	st := realstack.New(t, realstack.Options{Prefix: "cdbttls"})
	if r := runReal(t, st, "up", "--overlay", "tls"); r.code != 1 || !strings.Contains(r.stderr, "fix: cdb-setup tls init") {
		t.Fatalf("up --tls without certificates: exit %d, want 1 naming tls init", r.code)
	}
	if r := runReal(t, st, "tls", "init"); r.code != 0 || !strings.Contains(r.stderr, "postgres.crt is valid for 127.0.0.1, ::1, cdb_postgres, localhost") {
		t.Fatalf("tls init: exit %d", r.code)
	}
	dry := runReal(t, st, "--dry-run", "up", "--overlay", "tls")
	for _, want := range []string{"cdb-setup's TLS overlay", "ssl=on", "POSTGRES_PASSWORD_FILE", `"$$(cat /run/secrets/redis_password)"`, "type: tmpfs"} {
		if !strings.Contains(dry.stderr, want) {
			t.Errorf("up --dry-run --tls does not show %q", want)
		}
	}
	r := runReal(t, st, "up", "--overlay", "tls", "--json")
	rep := jsonReport(t, r)
	if r.code != 0 {
		t.Fatalf("up --tls: exit %d; failed: %q; compose: %s", r.code, failedChecks(rep), rep.ComposeError)
	}
	for id, want := range map[string]string{
		"functional.postgres-login":          "sslmode=verify-full",
		"functional.redis-auth":              "over TLS",
		"functional.redis-plaintext-refused": "gets no answer",
		"secret-readable.POSTGRES_PASSWORD":  "can read",
	} {
		if o := checkOutcome(rep, id); o.Status != checks.OK || !strings.Contains(o.Detail, want) {
			t.Errorf("%s: %+v", id, o)
		}
	}
	provePostgresTLS(t, st)
	proveRedisTLS(t, st)
	pg := st.ContainerID(context.Background(), realstack.Postgres)
	if got := dockerOut(t, "exec", pg, "stat", "-c", "%U %a", "/run/cdb-setup/pgkey/server.key"); got != "postgres 600" {
		t.Errorf("postgres' key in the container: %s", got)
	}
	for _, svc := range []string{realstack.Postgres, realstack.Redis} {
		env := dockerOut(t, "inspect", "--format", "{{json .Config.Env}}", st.ContainerID(context.Background(), svc))
		for name, v := range st.Passwords {
			if strings.Contains(env, v) {
				t.Errorf("%s's environment holds %s", svc, name)
			}
		}
	}
	// The CA key never reaches a container.
	rd := st.ContainerID(context.Background(), realstack.Redis)
	if out, err := exec.Command("docker", "exec", rd, "sh", "-c", "ls -R /tls /run/cdb-setup 2>/dev/null | grep -c 'ca.key' || true").CombinedOutput(); err != nil || strings.TrimSpace(string(out)) != "0" {
		t.Errorf("ca.key in redis: %s %v", out, err)
	}
	// Nothing was created above the repo where tls.yml points.
	if _, err := os.Stat(filepath.Join(filepath.Dir(st.Repo), ".cdb_local")); err == nil {
		t.Error("docker created tls.yml's .cdb_local folder next to the repo")
	}
}

// On a database made without TLS (row inside), `up --tls` turns SSL on and
// keeps the data; a second `up --tls` changes nothing; after `tls rotate`,
// `up --tls` recreates the services whose certificates changed and they
// serve the new certificate.
func TestUpTLSOnExistingVolumeThenRotate(t *testing.T) {
	st := realstack.New(t, realstack.Options{Prefix: "cdbttlsrot"})
	if r := runReal(t, st, "up"); r.code != 0 {
		t.Fatalf("plain up: exit %d", r.code)
	}
	if got := st.Psql("INSERT INTO trades (symbol, side, quantity) VALUES ('ETHUSDT', 'sell', 2) RETURNING id"); got != "1" {
		t.Fatalf("insert: %q", got)
	}
	if got := st.Psql("SHOW ssl"); got != "off" {
		t.Fatalf("before --tls ssl is %s", got)
	}
	if r := runReal(t, st, "tls", "init"); r.code != 0 {
		t.Fatalf("tls init: exit %d", r.code)
	}
	if r := runReal(t, st, "up", "--overlay", "tls", "--json"); r.code != 0 {
		t.Fatalf("up --tls on the existing volume: exit %d; failed: %q", r.code, failedChecks(jsonReport(t, r)))
	}
	if got := st.Psql("SELECT count(*) FROM trades"); got != "1" {
		t.Errorf("after up --tls trades has %s rows", got)
	}
	provePostgresTLS(t, st)
	ctx := context.Background()
	pg, rd := st.ContainerID(ctx, realstack.Postgres), st.ContainerID(ctx, realstack.Redis)
	if r := runReal(t, st, "up", "--overlay", "tls"); r.code != 0 {
		t.Fatalf("second up --tls: exit %d", r.code)
	}
	if st.ContainerID(ctx, realstack.Postgres) != pg || st.ContainerID(ctx, realstack.Redis) != rd {
		t.Error("a second up --tls with unchanged certificates recreated a container")
	}
	if r := runReal(t, st, "tls", "rotate"); r.code != 0 {
		t.Fatalf("tls rotate: exit %d", r.code)
	}
	if r := runReal(t, st, "up", "--overlay", "tls", "--json"); r.code != 0 {
		t.Fatalf("up --tls after rotate: exit %d; failed: %q", r.code, failedChecks(jsonReport(t, r)))
	}
	if st.ContainerID(ctx, realstack.Postgres) == pg || st.ContainerID(ctx, realstack.Redis) == rd {
		t.Error("after tls rotate, up --tls kept a container with the old certificate")
	}
	served := proveRedisTLS(t, st)
	b, err := os.ReadFile(filepath.Join(tlscert.Dir(st.SecretsDir), "redis.crt"))
	must(t, err)
	onDisk, err := tlscert.ParseCert(b)
	must(t, err)
	if !served.Equal(onDisk) {
		t.Error("redis serves another certificate than the rotated redis.crt")
	}
	provePostgresTLS(t, st)
	if got := st.Psql("SELECT count(*) FROM trades"); got != "1" {
		t.Errorf("after rotate trades has %s rows", got)
	}

	// A plain up would recreate the TLS stack without TLS: it says so, and
	// the command it names to keep the stack as it runs does (a no-op up).
	dry := runReal(t, st, "--dry-run", "up")
	keep := ""
	if _, after, ok := strings.Cut(dry.stderr, "(to keep the stack as it runs: cdb-setup "); ok {
		keep, _, _ = strings.Cut(after, ")")
	}
	if !strings.Contains(dry.stderr, "this up recreates its services without them") || !strings.Contains(keep, "--overlay tls") {
		t.Fatalf("up --dry-run without --overlay tls on the TLS stack: exit %d, keep %q:\n%s", dry.code, keep, dry.stderr)
	}
	rd = st.ContainerID(ctx, realstack.Redis)
	if r := runReal(t, st, strings.Fields(keep)...); r.code != 0 || strings.Contains(r.stderr, "recreates its services without") {
		t.Fatalf("%s: exit %d:\n%s", keep, r.code, r.stderr)
	}
	if st.ContainerID(ctx, realstack.Redis) != rd {
		t.Error("the up that keeps the stack as it runs recreated redis")
	}

	// secrets rotate on the TLS stack. Without --overlay tls it would
	// recreate redis without TLS: it refuses, changes nothing and names the
	// command. That command saves redis' data over TLS, recreates redis
	// with TLS, and the key is still there under the new password.
	oldPw := st.Passwords["REDIS_PASSWORD"]
	if _, err := redisTLSCmd(t, st, oldPw, "SET", "last_signal", "buy"); err != nil {
		t.Fatalf("SET over TLS: %v", err)
	}
	r := runReal(t, st, "secrets", "rotate", "REDIS_PASSWORD")
	fix := ""
	for _, l := range strings.Split(r.stderr, "\n") {
		if _, after, ok := strings.Cut(l, "fix: cdb-setup "); ok {
			fix = after
		}
	}
	if r.code != 1 || !strings.Contains(fix, "--overlay tls") || !strings.Contains(r.stderr, "tls.yml") {
		t.Fatalf("rotate without --overlay tls: exit %d, fix %q:\n%s", r.code, fix, r.stderr)
	}
	if got := readSecretFile(t, st, "REDIS_PASSWORD"); got != oldPw {
		t.Fatal("a refused rotate changed REDIS_PASSWORD")
	}
	if r := runReal(t, st, strings.Fields(fix)...); r.code != 0 {
		t.Fatalf("%s: exit %d:\n%s", fix, r.code, r.stderr)
	}
	newPw := readSecretFile(t, st, "REDIS_PASSWORD")
	if newPw == oldPw {
		t.Fatal("REDIS_PASSWORD was not changed")
	}
	st.Passwords["REDIS_PASSWORD"] = newPw
	st.Passwords["REDIS_PASSWORD (old)"] = oldPw
	if got, err := redisTLSCmd(t, st, newPw, "GET", "last_signal"); err != nil || got != "buy" {
		t.Errorf("redis key after the rotation: %q, %v", got, err)
	}
	if _, err := redisTLSCmd(t, st, oldPw, "PING"); err == nil || !strings.Contains(err.Error(), "WRONGPASS") {
		t.Errorf("redis, old password: %v, want WRONGPASS", err)
	}
	proveRedisTLS(t, st) // still TLS only
	// doctor logs in to the TLS-only redis without being told about TLS.
	doc := runReal(t, st, "doctor")
	logins := ""
	for _, l := range strings.Split(doc.stdout, "\n") {
		if strings.Contains(l, "logged in to") {
			logins = l
		}
	}
	if !strings.Contains(logins, realstack.Redis) {
		t.Errorf("doctor did not log in to the TLS-only redis:\n%s", doc.stdout)
	}
}

func readSecretFile(t *testing.T, st *realstack.Stack, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(st.SecretsDir, name))
	must(t, err)
	return string(b)
}
