package secrets

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/claire-de-binare/cdb-setup/internal/manifest"
	"github.com/claire-de-binare/cdb-setup/internal/platform"
	"github.com/claire-de-binare/cdb-setup/internal/testenv"
)

func TestDiscoverRefusesFilesOutsideSecretsPath(t *testing.T) {
	for _, file := range []string{"${SECRETS_PATH}/../x", "/etc/passwd", "${SECRETS_PATH}/sub/x", "${SECRETS_PATH}"} {
		_, err := discoverBase(t, "secrets:\n  a:\n    file: "+file+"\n")
		if err == nil || !strings.Contains(err.Error(), "SECRETS_PATH") {
			t.Errorf("file: %s accepted or unclear error: %v", file, err)
		}
	}
	c, err := discoverBase(t, "secrets:\n  a:\n    file: ${SECRETS_PATH}/UNKNOWN_TOKEN\n  b:\n    file: ${SECRETS_PATH}/REDIS_PASSWORD\n")
	if err != nil {
		t.Fatal(err)
	}
	s, _ := c.Get("UNKNOWN_TOKEN")
	if s.Described || s.Policy.Kind != manifest.KindExternal || s.Policy.Optional {
		t.Errorf("an undescribed secret must be a required external: %+v", s.Policy)
	}
	if s, _ := c.Get("REDIS_PASSWORD"); s.Policy.Kind != manifest.KindGenerated {
		t.Error("a described secret lost its policy")
	}
}

// discoverBase writes base as the only compose file of a one-profile stack.
func discoverBase(t testing.TB, base string) (*Catalogue, error) {
	dir := testenv.TempDir(t)
	cdir := filepath.Join(dir, "compose")
	os.Mkdir(cdir, 0o755)
	if err := os.WriteFile(filepath.Join(cdir, "base.yml"), []byte(base), 0o644); err != nil {
		t.Fatal(err)
	}
	m := manifest.Default()
	m.ComposeDir = "compose"
	m.Profiles = map[string][]string{"dev": {"base.yml"}}
	m.DefaultProfile = "dev"
	m.Overlays = nil
	return Discover(context.Background(), DiscoverOptions{Repo: dir, Manifest: m, Dir: filepath.Join(dir, "s"), Env: platform.MapEnvironment{}})
}

// FuzzDiscover feeds arbitrary compose files to the catalogue: no panic,
// and every secret it accepts is a plain file directly inside the folder.
func FuzzDiscover(f *testing.F) {
	b, _ := os.ReadFile("testdata/cdbrepo/infrastructure/compose/base.yml")
	f.Add(string(b))
	f.Add("secrets:\n  a:\n    file: ${SECRETS_PATH}/../a\n")
	f.Add("services:\n  x:\n    image: a\n    secrets: [a]\nsecrets:\n  a:\n    file: ${SECRETS_PATH:-/tmp}/A\n")
	f.Add("secrets:\n  a:\n    environment: X\n")
	f.Fuzz(func(t *testing.T, base string) {
		c, err := discoverBase(t, base)
		if err != nil {
			return
		}
		for _, s := range c.Secrets {
			if validName(s.Name) != nil {
				t.Fatalf("accepted secret name %q", s.Name)
			}
			if filepath.Dir(s.Path) != c.Dir {
				t.Fatalf("secret %q resolves outside the folder", s.Name)
			}
		}
	})
}
