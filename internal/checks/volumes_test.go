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

func TestVolumeVerdict(t *testing.T) {
	dir := testenv.TempDir(t)
	s := pgSecret(dir)
	created := time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
	up := "cdb-setup up --repo /r"
	cases := []struct {
		name     string
		f        VolumeFacts
		want     Status
		contains []string
	}{
		{"no volume", VolumeFacts{Secret: s, Volume: "cdb_postgres_data"}, OK, []string{"no volume yet: first start initialises it"}},
		{"volume newer than the file", VolumeFacts{Secret: s, Volume: "cdb_postgres_data", Exists: true, Created: created, Modified: created.Add(-time.Hour)}, OK,
			[]string{"initialised with the current POSTGRES_PASSWORD"}},
		// The Engine gives whole seconds: a change within the creation
		// second is not evidence.
		{"same second", VolumeFacts{Secret: s, Volume: "cdb_postgres_data", Exists: true, Created: created, Modified: created.Add(900 * time.Millisecond)}, OK, nil},
		{"no creation time", VolumeFacts{Secret: s, Volume: "cdb_postgres_data", Exists: true, Modified: created}, OK, nil},
		{"file changed after the volume", VolumeFacts{Secret: s, Volume: "cdb_postgres_data", Exists: true, Created: created, Modified: created.Add(2 * time.Hour)}, Fail,
			[]string{"cdb_postgres_data", created.Local().Format(time.DateTime), created.Add(2 * time.Hour).Local().Format(time.DateTime), "cdb_postgres will reject the current password"}},
	}
	for _, c := range cases {
		r := VolumeVerdict(c.f, up)
		if r.Status != c.want {
			t.Errorf("%s: %+v, want %s", c.name, r, c.want)
			continue
		}
		for _, w := range c.contains {
			if !strings.Contains(r.Detail, w) {
				t.Errorf("%s: detail %q lacks %q", c.name, r.Detail, w)
			}
		}
		if r.Status == Fail {
			for _, w := range []string{"`cdb-setup keychain pull --force`", "then `" + up + "`", "`" + up + " --recreate-volume cdb_postgres_data`", "(asks first)"} {
				if !strings.Contains(r.Fix, w) {
					t.Errorf("%s: fix %q lacks %q", c.name, r.Fix, w)
				}
			}
		} else if r.Fix != "" {
			t.Errorf("%s: a pass with a fix: %q", c.name, r.Fix)
		}
	}

	// The value before the last `secrets rotate` is named, as in diagnosis.
	must(t, os.MkdirAll(filepath.Join(dir, ".backup"), 0o700))
	must(t, os.WriteFile(filepath.Join(dir, ".backup", "POSTGRES_PASSWORD.20240501T110000Z"), []byte("x"), 0o600))
	r := VolumeVerdict(VolumeFacts{Secret: s, Volume: "v", Exists: true, Created: created, Modified: created.Add(time.Hour)}, up)
	if !strings.Contains(r.Fix, filepath.Join(dir, ".backup", "POSTGRES_PASSWORD.20240501T110000Z")) {
		t.Errorf("fix without the backup: %s", r.Fix)
	}
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
func TestVolumesSecretsOnEngine(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("runs on the Linux CI engine")
	}
	home, _ := os.UserHomeDir()
	p := &Preflight{Env: platform.EnvironmentFrom(os.Environ()), Home: home, GOOS: runtime.GOOS, Rerun: "cdb-setup up"}
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
	must(t, os.WriteFile(s.Path, []byte("pw-not-shown"), 0o644))
	p.Secrets = []SecretFile{s}
	ctx := context.Background()
	name := p.Project + "_postgres_data"

	// No volume: passes.
	if r := p.volumesSecrets(ctx); r.Status != OK || !strings.Contains(r.Detail, name+": no volume yet") {
		t.Fatalf("no volume: %+v", r)
	}

	v, err := p.Engine.Client.VolumeCreate(ctx, volume.CreateOptions{Name: name})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Engine.Client.VolumeRemove(context.Background(), name, true) })
	created, err := time.Parse(time.RFC3339Nano, v.CreatedAt)
	if err != nil {
		t.Fatalf("CreatedAt %q: %v", v.CreatedAt, err)
	}

	// The file changed after the volume (set explicitly: no clock race).
	later := created.Add(5 * time.Second)
	must(t, os.Chtimes(s.Path, later, later))
	r := p.volumesSecrets(ctx)
	if r.Status != Fail || !strings.Contains(r.Detail, "the volume "+name+" was initialised on") ||
		!strings.Contains(r.Fix, "cdb-setup keychain pull --force") || !strings.Contains(r.Fix, "cdb-setup up --recreate-volume "+name) {
		t.Fatalf("file newer than the volume: %+v", r)
	}
	if strings.Contains(r.Detail+r.Fix, "pw-not-shown") {
		t.Fatal("the secret value appeared in the result")
	}

	// `up --recreate-volume` deletes it before the start: passes.
	p.Recreate = []string{name}
	if r := p.volumesSecrets(ctx); r.Status != OK || !strings.Contains(r.Detail, "--recreate-volume") {
		t.Fatalf("volume to be recreated: %+v", r)
	}
	p.Recreate = nil

	// The volume is newer than the file: passes.
	earlier := created.Add(-time.Hour)
	must(t, os.Chtimes(s.Path, earlier, earlier))
	if r := p.volumesSecrets(ctx); r.Status != OK || !strings.Contains(r.Detail, "initialised with the current POSTGRES_PASSWORD") {
		t.Fatalf("volume newer than the file: %+v", r)
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
