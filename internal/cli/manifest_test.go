package cli

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/claire-de-binare/cdb-setup/internal/manifest"
	"github.com/claire-de-binare/cdb-setup/internal/testenv"
)

// TestManifestPrintStartsAManifest: issue 14. `cdb-setup manifest print >
// cdb-setup.yaml` is valid YAML that reads back as the built-in default,
// and a file cut down to one key changes only that key for the commands.
func TestManifestPrintStartsAManifest(t *testing.T) {
	env, _ := fixtureEnv(t)
	r := runCLI(t, env, "", "manifest", "print")
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("manifest print: exit %d\n%s", r.code, r.stderr)
	}
	m, err := manifest.Parse([]byte(r.stdout))
	if err != nil {
		t.Fatalf("the printed manifest does not parse: %v\n%s", err, r.stdout)
	}
	if !reflect.DeepEqual(m, manifest.Default()) {
		t.Fatalf("the printed manifest is not the default:\n%s", r.stdout)
	}
	// Under --json: one envelope, the YAML in data.output.
	j := runCLI(t, env, "", "manifest", "print", "--json")
	e := parseEnvelope(t, j.stdout)
	if !e.OK || !strings.Contains(string(e.Data), "compose_dir: infrastructure/compose") {
		t.Errorf("--json: %+v", e)
	}

	// The user keeps only targets: every command sees the default with
	// those targets (the workspace reads the file).
	repo := filepath.Join(testenv.TempDir(t), "repo")
	copyTree(t, "testdata/cdbrepo", repo)
	if err := os.WriteFile(filepath.Join(repo, manifest.FileName), []byte("targets: [cdb_redis]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	env["CDB_SETUP_REPO"] = repo
	env["CDB_SETUP_PROJECT"] = "cdbtmanifest" + strings.ToLower(strings.ReplaceAll(t.Name(), "/", "")) // not another test's stack
	h := runCLI(t, env, "", "up", "--help")
	if !strings.Contains(h.stdout, "this stack has: logging, network-isolation, strict-health, tls ("+filepath.Join(repo, manifest.FileName)+")") {
		t.Errorf("a manifest of only targets: lost the default overlays:\n%s", h.stdout)
	}
	d := runCLI(t, env, "", "up", "--dry-run", "--secrets-path", filepath.Join(testenv.TempDir(t), "s"))
	// Its preflight looks at cdb_redis's secret only (the other targets'
	// would be missing too).
	if !strings.Contains(d.stderr, "REDIS_PASSWORD is missing (mounted by cdb_redis)") || strings.Contains(d.stderr, "POSTGRES_PASSWORD") {
		t.Errorf("up --dry-run does not start just the manifest's one target:\n%s", d.stderr)
	}
}
