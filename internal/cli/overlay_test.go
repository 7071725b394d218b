package cli

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/claire-de-binare/cdb-setup/internal/platform"
	"github.com/claire-de-binare/cdb-setup/internal/testenv"
)

// TestHelpListsTheManifestsOverlays: issue 14. Help names the overlays of
// the manifest in use — the demo has only strict-health, so no help offers
// it logging — and one flag chooses them everywhere: --overlay NAME. The
// old `up --logging` is a hidden alias whose fixes print --overlay.
func TestHelpListsTheManifestsOverlays(t *testing.T) {
	r := newWSRig(t)
	env := platform.MapEnvironment{"CDB_SETUP_REPO": r.repo}
	for k, v := range r.env {
		env[k] = v
	}
	manifestPath := filepath.Join(r.repo, "cdb-setup.yaml")
	for _, args := range [][]string{{"--help"}, {"up", "--help"}, {"down", "--help"}, {"secrets", "init", "--help"}} {
		h := runCLI(t, env, "", args...)
		if !strings.Contains(h.stdout, "this stack has: strict-health ("+manifestPath+")") {
			t.Errorf("%v: the demo's overlays are not listed:\n%s", args, h.stdout)
		}
		for _, other := range []string{"logging", "network-isolation", "--tls"} {
			if strings.Contains(h.stdout, other) {
				t.Errorf("%v: help offers %s, which the demo does not have:\n%s", args, other, h.stdout)
			}
		}
	}
	if h := runCLI(t, env, "", "up", "--help"); !strings.Contains(h.stdout, "this stack has: dev (default), prod") {
		t.Errorf("up --help does not list the demo's profiles:\n%s", h.stdout)
	}
	// An overlay the demo lacks: a usage error naming the ones it has.
	dir := filepath.Join(r.home, "s")
	for _, args := range [][]string{
		{"--yes", "--dry-run", "--overlay", "logging", "--secrets-path", dir},
		{"up", "--overlay", "logging", "--secrets-path", dir},
		{"up", "--logging", "--secrets-path", dir},
	} {
		got := runCLI(t, env, "", args...)
		if got.code != 2 || !strings.Contains(got.stderr, `unknown overlay "logging" (this stack has: strict-health)`) {
			t.Errorf("%v: exit %d\n%s", args, got.code, got.stderr)
		}
	}
	// Outside a clone, help says where the names come from.
	out := platform.MapEnvironment{}
	for k, v := range r.env {
		out[k] = v
	}
	out["CDB_SETUP_REPO"] = testenv.TempDir(t)
	if h := runCLI(t, out, "", "up", "--help"); !strings.Contains(h.stdout, "--overlay") {
		t.Errorf("up --help outside a clone:\n%s", h.stdout)
	}
}

// TestOldOverlaySwitchesAreAliases: `up --strict-health` selects the same
// files as `up --overlay strict-health`, and what it suggests to run again
// spells it --overlay.
func TestOldOverlaySwitchesAreAliases(t *testing.T) {
	r := newWSRig(t)
	env := platform.MapEnvironment{"CDB_SETUP_REPO": r.repo}
	for k, v := range r.env {
		env[k] = v
	}
	env["DOCKER_HOST"] = "unix://" + filepath.Join(testenv.TempDir(t), "no-docker.sock")
	dir := filepath.Join(r.home, "s")
	old := runCLI(t, env, "", "up", "--strict-health", "--dry-run", "--secrets-path", dir)
	cur := runCLI(t, env, "", "up", "--overlay", "strict-health", "--dry-run", "--secrets-path", dir)
	want := "compose/base.yml + compose/dev.yml + compose/healthchecks-strict.yml"
	if !strings.Contains(old.stderr, want) || !strings.Contains(cur.stderr, want) {
		t.Errorf("the old switch and --overlay differ:\nold:\n%s\nnew:\n%s", old.stderr, cur.stderr)
	}
	// What it suggests running spells the selection --overlay (here the
	// fix of a misspelt service, which needs no Docker).
	typo := runCLI(t, env, "", "up", "--strict-health", "demo_ap", "--secrets-path", dir)
	want = "Did you mean `cdb-setup up --secrets-path " + platform.ShellArg(dir) + " --overlay strict-health demo_app`?"
	if typo.code != 2 || !strings.Contains(typo.stderr, want) {
		t.Errorf("up --strict-health demo_ap: exit %d, want 2 and %q:\n%s", typo.code, want, typo.stderr)
	}
	for _, c := range suggestedCommands(old.stderr + typo.stderr) {
		if strings.Contains(c, "--strict-health") {
			t.Errorf("a fix spells the old switch: %q", c)
		}
		if err := checkSuggested(c); err != nil {
			t.Errorf("suggests %q: %v", c, err)
		}
	}
}
