package cli

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/claire-de-binare/cdb-setup/internal/manifest"
	"github.com/claire-de-binare/cdb-setup/internal/rotate"
	"github.com/claire-de-binare/cdb-setup/internal/stack"
	"github.com/claire-de-binare/cdb-setup/internal/step"
	"github.com/claire-de-binare/cdb-setup/internal/testenv"
	"github.com/claire-de-binare/cdb-setup/internal/workspace"
)

// sameComposeFiles compares what a rotate would recreate with compose's
// config_files label of the running container. (The real stack case, TLS
// redis and the printed command run as printed, is
// TestUpTLSOnExistingVolumeThenRotate.)
func TestSameComposeFiles(t *testing.T) {
	dir := testenv.TempDir(t)
	repo := filepath.Join(dir, "repo")
	state := filepath.Join(dir, "state")
	base := filepath.Join(repo, "compose", "base.yml")
	tlsYML := filepath.Join(repo, "compose", "tls.yml")
	generated := filepath.Join(state, "tls", "p", "tls-overlay.yml")
	extra := filepath.Join(dir, "elsewhere.yml")
	for _, f := range []string{base, tlsYML, generated, extra} {
		must(t, os.MkdirAll(filepath.Dir(f), 0o700))
		must(t, os.WriteFile(f, []byte("services: {}\n"), 0o600))
	}
	// The clone reached through a symlinked folder is the same clone.
	// (Not under Windows: Wine makes the link, but Go's EvalSymlinks there
	// does not follow it, so only a real Windows could check this part.)
	link := repo
	if runtime.GOOS != "windows" {
		link = filepath.Join(dir, "link")
		must(t, os.Symlink(repo, link))
	}

	m := &manifest.Manifest{ComposeDir: "compose", DefaultProfile: "dev",
		Profiles: map[string][]string{"dev": {"base.yml"}}, Overlays: map[string][]string{"tls": {"tls.yml"}}}
	lsFor := func(files ...string) *loadedStack {
		return &loadedStack{Workspace: &workspace.Workspace{Repo: link, Manifest: m, StateDir: state},
			Inv: stack.Invocation{Repo: link, Files: files, Project: "p"}}
	}
	f := &Factory{Global: &GlobalOptions{}}
	running := func(files ...string) []rotate.Container {
		return []rotate.Container{{ID: "r1", Service: "cdb_redis", ConfigFiles: files}}
	}
	withTLS := running(base, tlsYML, generated)

	// Started with --overlay tls, rotated without: refused, the fix names it.
	err := sameComposeFiles(f, lsFor("compose/base.yml"), withTLS, []string{"cdb_redis"}, "REDIS_PASSWORD")
	if err == nil || !strings.Contains(err.Error(), "tls.yml") {
		t.Fatalf("rotate without the running overlay: %v", err)
	}
	if fix := step.FixOf(err); fix != "cdb-setup secrets rotate REDIS_PASSWORD --profile dev --overlay tls" {
		t.Errorf("fix: %q", fix)
	}
	// The same files (through the symlink): nothing to refuse.
	linked := filepath.Join(link, "compose")
	if err := sameComposeFiles(f, lsFor("compose/base.yml", "compose/tls.yml", generated), running(filepath.Join(linked, "base.yml"), tlsYML, generated), []string{"cdb_redis"}, "REDIS_PASSWORD"); err != nil {
		t.Errorf("same files: %v", err)
	}
	// A service that is not recreated, or a container without the label.
	if err := sameComposeFiles(f, lsFor("compose/base.yml"), withTLS, nil, "REDIS_PASSWORD"); err != nil {
		t.Errorf("nothing recreated: %v", err)
	}
	if err := sameComposeFiles(f, lsFor("compose/base.yml"), running(), []string{"cdb_redis"}, "REDIS_PASSWORD"); err != nil {
		t.Errorf("no label: %v", err)
	}
	// A file no selection gives: refused, and no made-up command.
	err = sameComposeFiles(f, lsFor("compose/base.yml"), running(base, extra), []string{"cdb_redis"}, "REDIS_PASSWORD")
	if err == nil || strings.HasPrefix(step.FixOf(err), "cdb-setup ") || !strings.Contains(step.FixOf(err), "--profile and --overlay the stack was started with") {
		t.Errorf("unknown file: %v / %q", err, step.FixOf(err))
	}
}
