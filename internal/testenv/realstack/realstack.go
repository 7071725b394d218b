// Package realstack is a test fixture: a CDB-shaped compose stack (postgres
// with POSTGRES_PASSWORD_FILE and init SQL, redis with --requirepass from its
// secret) on the real PostgreSQL 15 and Redis 7 images that
// scripts/server-images.sh builds from Debian's packages. It is modelled on
// CDB's compose files, not copied from them; see fixture/.
//
// New writes a repo (cdb-setup.yaml, compose/base.yml, database/initdb/) and a
// secrets folder with random passwords, under a unique project name and free
// host ports, and removes the project's containers and volumes when the test
// ends. Tests drive it with cdb-setup itself (--repo Repo --secrets-path
// SecretsDir) or with Compose directly (Stack.Compose).
package realstack

import (
	"bytes"
	"context"
	"crypto/rand"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"text/template"
	"time"

	"github.com/claire-de-binare/cdb-setup/internal/testenv"
)

//go:embed fixture
var fixture embed.FS

// The fixture's compose services and volume keys.
const (
	Postgres       = "cdb_postgres"
	Redis          = "cdb_redis"
	PostgresUser   = "claire_user"
	PostgresDB     = "claire_de_binare"
	PostgresVolume = "postgres_data"
	RedisVolume    = "redis_data"
)

// Options change the fixture for one test.
type Options struct {
	// Prefix starts the project name (default "cdbtreal"); a random suffix
	// makes it unique.
	Prefix string
	// InitSQL adds files to /docker-entrypoint-initdb.d (name → content),
	// e.g. {"02-slow.sql": "SELECT pg_sleep(15);"}.
	InitSQL map[string]string
}

// Stack is one test's copy of the fixture.
type Stack struct {
	t           testing.TB
	Repo        string // holds cdb-setup.yaml, compose/, database/
	ComposeFile string // compose/base.yml
	// ComposeFiles are the files Stack.Compose passes (ComposeFile first); a
	// test may append an override it wrote.
	ComposeFiles []string
	SecretsDir   string // POSTGRES_PASSWORD, REDIS_PASSWORD (mode 0644 in a 0700 folder)
	Project      string
	// Host ports published on 127.0.0.1.
	PostgresPort, RedisPort int
	// Passwords holds the current secret values (for leak checks; never log them).
	Passwords map[string]string
	compose   string
}

// New needs Docker, Compose v2 (CDB_SETUP_COMPOSE) and both images; without
// them the test skips (fails under CDB_SETUP_REQUIRE_ALL=1).
func New(t testing.TB, o Options) *Stack {
	t.Helper()
	testenv.NeedImage(t, testenv.PostgresImage)
	testenv.NeedImage(t, testenv.RedisImage)
	compose := os.Getenv("CDB_SETUP_COMPOSE")
	testenv.Need(t, compose != "", "Compose v2 as CDB_SETUP_COMPOSE (scripts/test.sh builds it from the module cache)")
	if o.Prefix == "" {
		o.Prefix = "cdbtreal"
	}
	s := &Stack{t: t, Repo: testenv.TempDir(t), SecretsDir: testenv.TempDir(t), Project: o.Prefix + randomHex(4),
		PostgresPort: freePort(t), RedisPort: freePort(t), Passwords: map[string]string{}, compose: compose}
	s.ComposeFile = filepath.Join(s.Repo, "compose", "base.yml")
	s.ComposeFiles = []string{s.ComposeFile}
	if err := os.Chmod(s.SecretsDir, 0o700); err != nil {
		t.Fatal(err)
	}
	vars := map[string]any{"Project": s.Project, "PostgresPort": s.PostgresPort, "RedisPort": s.RedisPort}
	err := fs.WalkDir(fixture, "fixture", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		dst := filepath.Join(s.Repo, filepath.FromSlash(strings.TrimPrefix(strings.TrimPrefix(p, "fixture"), "/")))
		if d.IsDir() {
			return os.MkdirAll(dst, 0o755)
		}
		b, err := fixture.ReadFile(p)
		if err != nil {
			return err
		}
		tpl, err := template.New(p).Option("missingkey=error").Parse(string(b))
		if err != nil {
			return err
		}
		var out bytes.Buffer
		if err := tpl.Execute(&out, vars); err != nil {
			return err
		}
		// World-readable: the postgres user in the container reads initdb/.
		return os.WriteFile(dst, out.Bytes(), 0o644)
	})
	if err != nil {
		t.Fatalf("write the realstack fixture: %v", err)
	}
	for name, sql := range o.InitSQL {
		if err := os.WriteFile(filepath.Join(s.Repo, "database", "initdb", name), []byte(sql), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// t.TempDir is 0700: the container's postgres user must reach initdb/.
	for _, d := range []string{s.Repo, filepath.Join(s.Repo, "database"), filepath.Join(s.Repo, "database", "initdb")} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	s.NewPassword("POSTGRES_PASSWORD")
	s.NewPassword("REDIS_PASSWORD")
	t.Cleanup(s.Remove)
	return s
}

// NewPassword writes a fresh random password for name into its existing file
// (rewritten in place, as `secrets rotate` leaves a file: same path) and
// returns it.
func (s *Stack) NewPassword(name string) string {
	s.t.Helper()
	v := "pw" + randomHex(16)
	s.SetPassword(name, v)
	return v
}

// SetPassword writes value as the secret file name (mode 0644).
func (s *Stack) SetPassword(name, value string) {
	s.t.Helper()
	p := filepath.Join(s.SecretsDir, name)
	if err := os.WriteFile(p, []byte(value), 0o644); err != nil {
		s.t.Fatal(err)
	}
	if err := os.Chmod(p, 0o644); err != nil {
		s.t.Fatal(err)
	}
	s.Passwords[name] = value
}

// Compose runs Compose v2 on the fixture (project name, compose file and
// SECRETS_PATH set) and returns its combined output.
func (s *Stack) Compose(ctx context.Context, args ...string) (string, error) {
	full := []string{"-p", s.Project}
	for _, f := range s.ComposeFiles {
		full = append(full, "-f", f)
	}
	full = append(full, args...)
	cmd := exec.CommandContext(ctx, s.compose, full...)
	cmd.Env = append(os.Environ(), "SECRETS_PATH="+s.SecretsDir)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("compose %s: %v", strings.Join(args, " "), err)
	}
	return string(out), nil
}

// Up starts services (all when none are named) and waits until they are
// healthy (`up -d --wait`); the test fails otherwise. Healthy postgres may
// still be the entrypoint's socket-only server on a first start: Psql waits
// for the real one.
func (s *Stack) Up(services ...string) {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if out, err := s.Compose(ctx, append([]string{"up", "-d", "--wait"}, services...)...); err != nil {
		s.t.Fatalf("%v\n%s", err, out)
	}
}

// Psql runs one SQL command as claire_user in claire_de_binare through the
// container's local socket (trust, as in the official image) and returns
// its unaligned output. While the entrypoint is still initialising (the
// temporary server refuses or is shutting down) it tries again, for up to
// 3 minutes.
func (s *Stack) Psql(sql string) string {
	s.t.Helper()
	id := s.ContainerID(context.Background(), Postgres)
	if id == "" {
		s.t.Fatalf("psql: %s has no container", Postgres)
	}
	deadline := time.Now().Add(3 * time.Minute)
	for {
		// Only after the final server is up: the init log line is there.
		logs, _ := exec.Command("docker", "logs", id).CombinedOutput()
		ready := strings.Contains(string(logs), "init process complete") || strings.Contains(string(logs), "Skipping initialization")
		if ready {
			out, err := exec.Command("docker", "exec", id, "psql", "-q", "-v", "ON_ERROR_STOP=1", "-U", PostgresUser, "-d", PostgresDB, "-tAc", sql).CombinedOutput()
			if err == nil {
				return strings.TrimSpace(string(out))
			}
			if !strings.Contains(string(out), "starting up") && !strings.Contains(string(out), "shutting down") && !strings.Contains(string(out), "No such file or directory") {
				s.t.Fatalf("psql %q: %v\n%s", sql, err, out)
			}
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("psql %q: postgres never finished starting; logs:\n%s", sql, logs)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// ContainerID is the ID of service's container ("" if none).
func (s *Stack) ContainerID(ctx context.Context, service string) string {
	out, _ := s.Compose(ctx, "ps", "-aq", service)
	return strings.TrimSpace(out)
}

// Volume is the Engine name of one of the fixture's volume keys.
func (s *Stack) Volume(key string) string { return s.Project + "_" + key }

// Remove deletes the project's containers, network and volumes (New
// registers it with t.Cleanup; calling it twice is harmless).
func (s *Stack) Remove() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if out, err := s.Compose(ctx, "down", "--volumes", "--remove-orphans", "--timeout", "5"); err != nil {
		s.t.Logf("cleanup of %s: %v\n%s", s.Project, err, out)
	}
	// Volumes compose no longer knows of (a renamed service, a failed up).
	out, _ := exec.CommandContext(ctx, "docker", "volume", "ls", "-q", "--filter", "label=com.docker.compose.project="+s.Project).Output()
	for _, v := range strings.Fields(string(out)) {
		_ = exec.CommandContext(ctx, "docker", "volume", "rm", "-f", v).Run()
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}
