package stack

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/claire-de-binare/cdb-setup/internal/platform"

	"github.com/claire-de-binare/cdb-setup/internal/testenv"
)

func TestInvocationArgs(t *testing.T) {
	inv := Invocation{Repo: filepath.FromSlash("/home/u/cdb"), Files: []string{"infrastructure/compose/base.yml", "infrastructure/compose/dev.yml"}, Project: "cdb"}
	got := strings.Join(inv.Args("up", "-d", "cdb_redis"), " ")
	want := "-f /home/u/cdb/infrastructure/compose/base.yml -f /home/u/cdb/infrastructure/compose/dev.yml -p cdb up -d cdb_redis"
	if runtime.GOOS != "windows" && got != want {
		t.Errorf("args:\n got %s\nwant %s", got, want)
	}
	if strings.Contains(got, `\`) {
		t.Errorf("compose paths must use forward slashes: %s", got)
	}
}

// fakeCompose writes a script that answers `version` like the given output.
func fakeCompose(t *testing.T, dir, name, output string) string {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("shell-script stand-ins for compose need a Unix shell")
	}
	p := filepath.Join(dir, name)
	script := "#!/bin/sh\nif [ \"$1\" = compose ]; then shift; fi\nif [ \"$1\" = version ]; then echo '" + output + "'; exit 0; fi\nexit 1\n"
	if err := os.WriteFile(p, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLocateCompose(t *testing.T) {
	dir := testenv.TempDir(t)
	v2 := fakeCompose(t, dir, "compose-v2", "Docker Compose version v2.40.3")
	v1 := fakeCompose(t, dir, "docker-compose", "docker-compose version 1.29.2, build unknown")
	docker := fakeCompose(t, dir, "docker", "Docker Compose version v2.29.7")
	env := platform.EnvironmentFrom(os.Environ())
	delete(env, "CDB_SETUP_COMPOSE") // scripts/test.sh sets it; these cases test the fallbacks

	t.Run("CDB_SETUP_COMPOSE first", func(t *testing.T) {
		e := platform.MapEnvironment{"CDB_SETUP_COMPOSE": v2, "PATH": env["PATH"]}
		c, err := LocateCompose(context.Background(), e, func(string) (string, error) { return docker, nil })
		if err != nil || c.Argv[0] != v2 || c.Version != "2.40.3" || c.V1 {
			t.Fatalf("%+v %v", c, err)
		}
	})
	t.Run("docker compose plugin", func(t *testing.T) {
		c, err := LocateCompose(context.Background(), env, func(n string) (string, error) {
			if n == "docker" {
				return docker, nil
			}
			return "", errors.New("not found")
		})
		if err != nil || len(c.Argv) != 2 || c.Argv[1] != "compose" || c.Version != "2.29.7" {
			t.Fatalf("%+v %v", c, err)
		}
	})
	t.Run("standalone v1 names its limits", func(t *testing.T) {
		c, err := LocateCompose(context.Background(), env, func(n string) (string, error) {
			if n == "docker-compose" {
				return v1, nil
			}
			return "", errors.New("not found")
		})
		if err != nil || !c.V1 || c.Version != "1.29.2" || len(c.Limits()) == 0 || !strings.Contains(strings.Join(c.Limits(), " "), "name:") {
			t.Fatalf("%+v %v", c, err)
		}
		f := filepath.Join(dir, "base.yml")
		if err := os.WriteFile(f, []byte("name: ${STACK_NAME:-cdb}\nservices: {}\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if b := V1Blockers([]string{f}); len(b) != 1 || !strings.Contains(b[0], "name:") {
			t.Errorf("blockers: %v", b)
		}
	})
	t.Run("none names the fix", func(t *testing.T) {
		_, err := LocateCompose(context.Background(), env, func(string) (string, error) { return "", errors.New("not found") })
		if err == nil || !strings.Contains(err.Error(), "install") {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestRunKeepsSecretsOutOfArgvAndEnv(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("needs a Unix shell")
	}
	dir := testenv.TempDir(t)
	// A stand-in compose that prints its argv and environment.
	p := filepath.Join(dir, "compose")
	if err := os.WriteFile(p, []byte("#!/bin/sh\necho \"ARGS $*\"\nenv\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	inv := Invocation{Repo: dir, Files: []string{"base.yml"}, Project: "cdbt", Env: map[string]string{"SECRETS_PATH": "/s", "PATH": os.Getenv("PATH")}}
	out, err := Compose{Argv: []string{p}}.Run(context.Background(), inv, nil, "up", "-d")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "ARGS -f "+filepath.ToSlash(filepath.Join(dir, "base.yml"))+" -p cdbt up -d") || !strings.Contains(out, "SECRETS_PATH=/s") {
		t.Errorf("output: %s", out)
	}
	if strings.Contains(out, "GRAFANA_PASSWORD") {
		t.Errorf("a variable the caller did not pass reached compose")
	}
}

func FuzzPublishedPorts(f *testing.F) {
	for _, s := range []string{"5432", "8002-8008", "", "0", "65535", "1-1", "x", "10-5", "-", "9-"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ports, err := publishedPorts(s)
		if err != nil {
			return
		}
		if len(ports) > 1001 {
			t.Fatalf("%q expanded to %d ports", s, len(ports))
		}
	})
}
