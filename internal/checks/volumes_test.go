package checks

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/volume"

	"github.com/claire-de-binare/cdb-setup/internal/manifest"
	"github.com/claire-de-binare/cdb-setup/internal/platform"
	"github.com/claire-de-binare/cdb-setup/internal/testenv"
)

func pgSecret(dir string) SecretFile {
	return SecretFile{Name: "POSTGRES_PASSWORD", Path: filepath.Join(dir, "POSTGRES_PASSWORD"), Services: []string{"cdb_postgres"},
		Policy: manifest.Secret{Kind: manifest.KindGenerated, Volume: "postgres_data"}}
}

func TestVolumesSecretsWithoutEngine(t *testing.T) {
	dir := testenv.TempDir(t)
	p := &Preflight{Engine: &Engine{}, Project: "cdb", Secrets: []SecretFile{{Name: "REDIS_PASSWORD", Path: filepath.Join(dir, "REDIS_PASSWORD")}}}
	if r := p.volumesSecrets(context.Background()); r.Status != OK {
		t.Errorf("no volume policy: %+v", r)
	}
	p.Secrets = append(p.Secrets, pgSecret(dir))
	if r := p.volumesSecrets(context.Background()); r.Status != Skip {
		t.Errorf("engine check failed: %+v, want skip", r)
	}
	if got := p.volumeName("postgres_data"); got != "cdb_postgres_data" {
		t.Errorf("volume name %q", got)
	}
	p.Volumes = map[string]string{"postgres_data": "custom_pg"}
	if got := p.volumeName("postgres_data"); got != "custom_pg" {
		t.Errorf("volume name from the compose model %q", got)
	}
}

// TestVolumesSecretsOnEngine runs the check against the real Engine with a
// volume cdbtvol<rand>_postgres_data, as compose names it for the project.
// Times play no part (issue 12, observation 1): the file's mtime and the
// volume's CreatedAt are moved both ways and change nothing.
func TestVolumesSecretsOnEngine(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("runs on the Linux CI engine")
	}
	home, _ := os.UserHomeDir()
	p := &Preflight{Env: platform.EnvironmentFrom(os.Environ()), Home: home, GOOS: runtime.GOOS, Rerun: "cdb-setup up", StateDir: testenv.TempDir(t)}
	p.Checks() // sets up p.Engine
	if r := p.dockerReachable(context.Background()); r.Status == Fail {
		testenv.Need(t, false, "a running Docker Engine: "+r.Detail)
	}
	t.Cleanup(func() { p.Engine.Client.Close() })
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	p.Project = "cdbtvol" + hex.EncodeToString(b)
	dir := testenv.TempDir(t)
	s := pgSecret(dir)
	must(t, os.WriteFile(s.Path, []byte("pw-not-shown-1"), 0o644))
	p.Secrets = []SecretFile{s}
	ctx := context.Background()
	name := p.Project + "_postgres_data"

	// No volume: passes, and up records it once it exists.
	if r := p.volumesSecrets(ctx); r.Status != OK || !strings.Contains(r.Detail, name+": no volume yet") {
		t.Fatalf("no volume: %+v", r)
	}
	if _, err := p.Engine.Client.VolumeCreate(ctx, volume.CreateOptions{Name: name}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Engine.Client.VolumeRemove(context.Background(), name, true) })
	if got, err := p.RecordFresh(ctx); err != nil || len(got) != 1 || got[0] != name {
		t.Fatalf("RecordFresh = %v, %v", got, err)
	}
	if r := p.volumesSecrets(ctx); r.Status != OK || !strings.Contains(r.Detail, name+" holds the current POSTGRES_PASSWORD") || strings.Contains(r.Detail, "initialised on") {
		t.Fatalf("recorded volume: %+v", r)
	}
	// A file time far in the future changes nothing.
	future := time.Now().Add(48 * time.Hour)
	must(t, os.Chtimes(s.Path, future, future))
	if r := p.volumesSecrets(ctx); r.Status != OK {
		t.Fatalf("same password, later file time: %+v", r)
	}

	// A new password (as `secrets rotate --force-volume` wrote it, backup
	// first): the volume holds the old one.
	must(t, os.MkdirAll(filepath.Join(dir, ".backup"), 0o700))
	backup := filepath.Join(dir, ".backup", "POSTGRES_PASSWORD.20240501T110000Z")
	must(t, os.WriteFile(backup, []byte("pw-not-shown-1"), 0o600))
	must(t, os.WriteFile(filepath.Join(dir, ".backup", "POSTGRES_PASSWORD.20240601T110000Z"), []byte("pw-not-shown-other"), 0o600))
	must(t, os.WriteFile(s.Path, []byte("pw-not-shown-2"), 0o644))
	past := time.Now().Add(-48 * time.Hour)
	must(t, os.Chtimes(s.Path, past, past)) // older than the volume: still caught
	r := p.volumesSecrets(ctx)
	if r.Status != Fail || !strings.Contains(r.Detail, name+" holds another password than the current POSTGRES_PASSWORD") ||
		!strings.Contains(r.Fix, "the backup "+backup+" holds the password") ||
		!strings.Contains(r.Fix, "`cp '"+backup+"' '"+s.Path+"'`") ||
		!strings.Contains(r.Fix, "`cdb-setup up --recreate-volume "+name+"`") {
		t.Fatalf("file changed: %+v", r)
	}
	if strings.Index(r.Fix, "the backup") > strings.Index(r.Fix, "--recreate-volume") {
		t.Errorf("deleting the volume is offered before the backup: %s", r.Fix)
	}
	if strings.Contains(r.Detail+r.Fix, "pw-not-shown") {
		t.Fatal("a secret value appeared in the result")
	}

	// Restoring the backup the fix names passes (the other half of
	// observation 1).
	cp, err := os.ReadFile(backup)
	must(t, err)
	must(t, os.WriteFile(s.Path, cp, 0o644))
	if r := p.volumesSecrets(ctx); r.Status != OK {
		t.Fatalf("backup restored: %+v", r)
	}

	// `up --recreate-volume` deletes it before the start: passes.
	must(t, os.WriteFile(s.Path, []byte("pw-not-shown-2"), 0o644))
	p.Recreate = []string{name}
	if r := p.volumesSecrets(ctx); r.Status != OK || !strings.Contains(r.Detail, "--recreate-volume") {
		t.Fatalf("volume to be recreated: %+v", r)
	}
	p.Recreate = nil

	// No record (a volume made before cdb-setup): unknown, never ✓.
	p.StateDir = testenv.TempDir(t)
	if r := p.volumesSecrets(ctx); r.Status != Warn || !strings.Contains(r.Detail, "unknown whether it holds the current POSTGRES_PASSWORD") {
		t.Fatalf("no record: %+v", r)
	}

	// Gone again: passes.
	must(t, p.Engine.Client.VolumeRemove(ctx, name, true))
	if r := p.volumesSecrets(ctx); r.Status != OK || !strings.Contains(r.Detail, "no volume yet") {
		t.Fatalf("volume removed: %+v", r)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// The CRLF problem names the services that read that secret (issue 12,
// messages), not services in general.
func TestCRLFNamesItsReaders(t *testing.T) {
	dir := testenv.TempDir(t)
	s := SecretFile{Name: "REDIS_PASSWORD", Path: filepath.Join(dir, "REDIS_PASSWORD"), Services: []string{"cdb_redis", "cdb_ws"},
		Policy: manifest.Secret{Kind: manifest.KindGenerated}}
	must(t, os.WriteFile(s.Path, []byte("abcdefgh12345678\r\n"), 0o644))
	p := &Preflight{Secrets: []SecretFile{s}}
	r := p.secretFiles(context.Background())
	if r.Status != Fail || !strings.Contains(r.Detail, "CRLF") || !strings.Contains(r.Detail, "(read by cdb_redis, cdb_ws)") || strings.Contains(r.Detail, "postgres") {
		t.Fatalf("%+v", r)
	}
}
