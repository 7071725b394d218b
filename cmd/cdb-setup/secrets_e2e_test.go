package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/claire-de-binare/cdb-setup/internal/testenv"
)

// buildBinary compiles cdb-setup once for this test binary.
func buildBinary(t *testing.T) string {
	t.Helper()
	exe := filepath.Join(testenv.TempDir(t), "cdb-setup")
	if runtime.GOOS == "windows" {
		exe += ".exe"
	}
	// go test puts its own GOROOT/bin first on PATH.
	out, err := exec.Command("go", "build", "-o", exe, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return exe
}

// composeCommand finds Docker Compose v2: $CDB_SETUP_COMPOSE (the plugin
// binary scripts/test.sh builds), else `docker compose` if it works. The
// Python docker-compose v1 on Debian's PATH does not count (no name:, other
// output).
func composeCommand(t *testing.T) []string {
	t.Helper()
	if p := os.Getenv("CDB_SETUP_COMPOSE"); p != "" {
		if _, err := os.Stat(p); err == nil {
			return []string{p} // standalone: takes compose's own arguments
		}
	}
	if docker, err := exec.LookPath("docker"); err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		// Only the v2 plugin answers `docker compose`; a source build
		// reports its version as "dev", so the answer itself is not checked.
		if err := exec.CommandContext(ctx, docker, "compose", "version", "--short").Run(); err == nil {
			return []string{docker, "compose"}
		}
	}
	testenv.Need(t, false, "Docker Compose v2 (set CDB_SETUP_COMPOSE to the docker-compose plugin binary, or install the plugin; scripts/test.sh builds it)")
	return nil
}

// TestSecretsInitSatisfiesComposeConfig runs the built binary on the
// fixture repo (every overlay file present), then asks the real Docker
// Compose which secret files it resolves, and checks each exists as a
// regular file with exactly the bytes the rules require.
func TestSecretsInitSatisfiesComposeConfig(t *testing.T) {
	if runtime.GOOS == "windows" {
		// Not a missing component: under Wine there is neither a Windows Go
		// toolchain to build the binary nor Docker Compose to ask.
		t.Skip("runs on the host OS only")
	}
	compose := composeCommand(t)
	exe := buildBinary(t)
	repo, _ := filepath.Abs("../../internal/secrets/testdata/cdbrepo")
	home := testenv.TempDir(t)
	secretsDir := filepath.Join(home, "Documents", ".secrets", ".cdb")
	env := append(os.Environ(), "HOME="+home, "USERPROFILE="+home, "CDB_SETUP_STATE_DIR="+filepath.Join(home, "state"), "SECRETS_PATH="+secretsDir)

	cmd := exec.Command(exe, "secrets", "init", "--no-input", "--repo", repo)
	cmd.Env = env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("secrets init: %v\n%s", err, stderr.String())
	}

	files := []string{"base.yml", "dev.yml", "logging.yml", "healthchecks-strict.yml", "healthchecks-mounts.yml", "network-prod.yml", "tls.yml"}
	args := append([]string{}, compose[1:]...)
	for _, f := range files {
		args = append(args, "-f", filepath.Join(repo, "infrastructure", "compose", f))
	}
	args = append(args, "config", "--format", "json")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cc := exec.CommandContext(ctx, compose[0], args...)
	cc.Env = append(os.Environ(), "SECRETS_PATH="+secretsDir)
	var cerr bytes.Buffer
	cc.Stderr = &cerr
	out, err := cc.Output()
	if err != nil {
		t.Fatalf("docker compose config: %v\n%s", err, cerr.String())
	}
	var model struct {
		Secrets map[string]struct {
			File string `json:"file"`
		} `json:"secrets"`
	}
	if err := json.Unmarshal(out, &model); err != nil {
		t.Fatalf("compose config output: %v", err)
	}
	if len(model.Secrets) != 10 {
		t.Fatalf("compose resolves %d secrets, want 10", len(model.Secrets))
	}
	for key, s := range model.Secrets {
		fi, err := os.Lstat(s.File)
		if err != nil {
			t.Errorf("%s: %s: %v", key, s.File, err)
			continue
		}
		if !fi.Mode().IsRegular() {
			t.Errorf("%s: %s is not a regular file (%v)", key, s.File, fi.Mode())
			continue
		}
		if filepath.Dir(s.File) != secretsDir {
			t.Errorf("%s: %s is outside the secrets folder", key, s.File)
		}
		b, _ := os.ReadFile(s.File)
		if bytes.ContainsAny(b, "\r\n\x00") || bytes.HasPrefix(b, []byte("\xef\xbb\xbf")) || len(bytes.TrimSpace(b)) != len(b) {
			t.Errorf("%s: %d bytes break the byte rules", key, len(b))
		}
		name := filepath.Base(s.File)
		switch {
		case name == "REDIS_PASSWORD" || name == "POSTGRES_PASSWORD" || name == "GRAFANA_PASSWORD":
			if len(b) != 32 {
				t.Errorf("%s: %d bytes, want 32", name, len(b))
			}
		case name == "POSTGRES_PASSWORD_DSN":
			pw, _ := os.ReadFile(filepath.Join(secretsDir, "POSTGRES_PASSWORD"))
			if !bytes.Contains(b, append(append([]byte(":"), pw...), '@')) {
				t.Errorf("DSN does not carry POSTGRES_PASSWORD")
			}
		default:
			if len(b) != 0 {
				t.Errorf("%s: optional external secret should be empty, has %d bytes", name, len(b))
			}
		}
		if runtime.GOOS == "linux" && fi.Mode().Perm() != 0o644 {
			t.Errorf("%s: mode %04o, want 0644 on Linux", name, fi.Mode().Perm())
		}
	}
}
