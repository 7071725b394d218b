package workspace

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/claire-de-binare/cdb-setup/internal/exitcode"
	"github.com/claire-de-binare/cdb-setup/internal/platform"
	"github.com/claire-de-binare/cdb-setup/internal/testenv"
)

// rig is a home, a state folder and the demo clone (its manifest says
// project: cdbdemo, compose_dir: compose).
type rig struct {
	home, state, demo string
	facts             platform.Facts
}

func newRig(t *testing.T) *rig {
	t.Helper()
	home := testenv.TempDir(t)
	demo, err := filepath.Abs(filepath.Join("..", "..", "examples", "demo"))
	if err != nil {
		t.Fatal(err)
	}
	r := &rig{home: home, state: filepath.Join(home, "state"), demo: demo}
	r.facts = platform.Facts{OS: runtime.GOOS, Arch: runtime.GOARCH, Home: home, Documents: filepath.Join(home, "Documents"), DocumentsSource: "default"}
	return r
}

// save writes the answers file of a last setup.
func (r *rig) save(t *testing.T, content string) {
	t.Helper()
	if err := os.MkdirAll(r.state, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(r.state, AnswersFileName), []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func (r *rig) resolve(t *testing.T, flags Flags, env platform.MapEnvironment) *Workspace {
	t.Helper()
	env["HOME"], env["USERPROFILE"], env["CDB_SETUP_STATE_DIR"] = r.home, r.home, r.state
	if flags.Repo == "" {
		flags.Repo = r.demo
	}
	w, err := Resolve(context.Background(), Options{Flags: flags, Env: env, Facts: &r.facts})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.NeedRepo(); err != nil {
		t.Fatal(err)
	}
	return w
}

// TestSecretsDirPrecedence: each row removes the strongest source of the
// row before; the source string names exactly the one used.
func TestSecretsDirPrecedence(t *testing.T) {
	r := newRig(t)
	p := func(s string) string { return filepath.Join(r.home, s) }
	r.save(t, "secrets_path: "+p("saved")+"\n")
	all := platform.MapEnvironment{"CDB_SETUP_SECRETS_PATH": p("cdbenv"), "SECRETS_PATH": p("secretspath")}
	cases := []struct {
		name         string
		flag         string
		drop         []string
		noSaved      bool
		want, source string
	}{
		{"flag", p("flag"), nil, false, p("flag"), "from --secrets-path"},
		{"CDB_SETUP_SECRETS_PATH", "", nil, false, p("cdbenv"), "from CDB_SETUP_SECRETS_PATH"},
		{"last setup", "", []string{"CDB_SETUP_SECRETS_PATH"}, false, p("saved"), "from your last setup"},
		{"SECRETS_PATH", "", []string{"CDB_SETUP_SECRETS_PATH"}, true, p("secretspath"), "from SECRETS_PATH"},
		{"default", "", []string{"CDB_SETUP_SECRETS_PATH", "SECRETS_PATH"}, true, filepath.Join(r.home, "Documents", ".secrets", ".cdb"), "default <Documents>/.secrets/.cdb"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			env := platform.MapEnvironment{}
			for k, v := range all {
				env[k] = v
			}
			for _, k := range c.drop {
				delete(env, k)
			}
			if c.noSaved {
				os.Remove(filepath.Join(r.state, AnswersFileName))
			}
			w := r.resolve(t, Flags{SecretsPath: c.flag}, env)
			if w.SecretsDir != c.want || w.SecretsSource != c.source {
				t.Errorf("secrets folder = %s (%s), want %s (%s)", w.SecretsDir, w.SecretsSource, c.want, c.source)
			}
		})
	}
}

// TestProjectPrecedence: --project-name, CDB_SETUP_PROJECT, STACK_NAME
// (the CDB files say name: ${STACK_NAME:-cdb}), then the manifest.
func TestProjectPrecedence(t *testing.T) {
	r := newRig(t)
	cases := []struct {
		flag   string
		env    platform.MapEnvironment
		want   string
		source string
	}{
		{"fromflag", platform.MapEnvironment{"CDB_SETUP_PROJECT": "fromenv", "STACK_NAME": "fromstack"}, "fromflag", "from --project-name"},
		{"", platform.MapEnvironment{"CDB_SETUP_PROJECT": "fromenv", "STACK_NAME": "fromstack"}, "fromenv", "from CDB_SETUP_PROJECT"},
		{"", platform.MapEnvironment{"STACK_NAME": "fromstack"}, "fromstack", "from STACK_NAME"},
		{"", platform.MapEnvironment{}, "cdbdemo", "from the manifest (" + filepath.Join(r.demo, "cdb-setup.yaml") + ")"},
	}
	for _, c := range cases {
		w := r.resolve(t, Flags{Project: c.flag}, c.env)
		if w.Project != c.want || w.ProjectSource != c.source {
			t.Errorf("flag %q env %v: project = %s (%s), want %s (%s)", c.flag, c.env, w.Project, w.ProjectSource, c.want, c.source)
		}
	}
}

// TestComposeDirFromManifest: the compose folder is the manifest's
// compose_dir (the demo's is compose, not infrastructure/compose).
func TestComposeDirFromManifest(t *testing.T) {
	r := newRig(t)
	w := r.resolve(t, Flags{}, platform.MapEnvironment{})
	if want := filepath.Join(r.demo, "compose"); w.ComposeDir != want {
		t.Errorf("compose folder = %s, want %s", w.ComposeDir, want)
	}
	if w.ManifestSource != filepath.Join(r.demo, "cdb-setup.yaml") || w.Manifest.Project != "cdbdemo" {
		t.Errorf("manifest = %s (%s)", w.Manifest.Project, w.ManifestSource)
	}
	if w.StateDir != r.state || w.Facts.Home != r.home {
		t.Errorf("state %s facts %+v", w.StateDir, w.Facts)
	}
}

// TestTildeExpandedEverywhere: a ~ the shell did not expand (quoted, or
// after --flag=) means the home folder in every source, never ./~; relative
// paths are made absolute, everything is cleaned.
func TestTildeExpandedEverywhere(t *testing.T) {
	r := newRig(t)
	cwd, _ := os.Getwd()
	for _, c := range []struct{ in, want string }{
		{"~", r.home},
		{"~/x", filepath.Join(r.home, "x")},
		{"~/a/../b/", filepath.Join(r.home, "b")},
		{"rel/x", filepath.Join(cwd, "rel", "x")},
		{"~x", filepath.Join(cwd, "~x")}, // ~user is not supported: a plain name
	} {
		got, err := ExpandPath(c.in, r.home)
		if err != nil || got != c.want {
			t.Errorf("ExpandPath(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
	if runtime.GOOS == "windows" {
		if got, _ := ExpandPath(`~\x\y`, r.home); got != filepath.Join(r.home, "x", "y") {
			t.Errorf(`ExpandPath(~\x\y) = %q`, got)
		}
	}
	// Every source of the secrets folder goes through it.
	r.save(t, "secrets_path: ~/saved\n")
	for _, c := range []struct {
		flag string
		env  platform.MapEnvironment
		want string
	}{
		{"~/flag", platform.MapEnvironment{}, filepath.Join(r.home, "flag")},
		{"", platform.MapEnvironment{"CDB_SETUP_SECRETS_PATH": "~/cdbenv"}, filepath.Join(r.home, "cdbenv")},
		{"", platform.MapEnvironment{}, filepath.Join(r.home, "saved")},
	} {
		if w := r.resolve(t, Flags{SecretsPath: c.flag}, c.env); w.SecretsDir != c.want {
			t.Errorf("flag %q env %v: %s, want %s", c.flag, c.env, w.SecretsDir, c.want)
		}
	}
	os.Remove(filepath.Join(r.state, AnswersFileName))
	if w := r.resolve(t, Flags{}, platform.MapEnvironment{"SECRETS_PATH": "~/sp"}); w.SecretsDir != filepath.Join(r.home, "sp") {
		t.Errorf("SECRETS_PATH=~/sp: %s", w.SecretsDir)
	}
	// --repo too.
	clone := filepath.Join(r.home, "clone")
	b, err := os.ReadFile(filepath.Join(r.demo, "cdb-setup.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(clone, 0o755)
	os.WriteFile(filepath.Join(clone, "cdb-setup.yaml"), b, 0o644)
	if w := r.resolve(t, Flags{Repo: "~/clone"}, platform.MapEnvironment{}); w.Repo != clone || w.ComposeDir != filepath.Join(clone, "compose") {
		t.Errorf("--repo ~/clone: %s (%s), want %s", w.Repo, w.ComposeDir, clone)
	}
}

// TestRepoErrors: the texts and exit codes commands have always given.
func TestRepoErrors(t *testing.T) {
	r := newRig(t)
	env := platform.MapEnvironment{"HOME": r.home, "USERPROFILE": r.home, "CDB_SETUP_STATE_DIR": r.state}
	missing := filepath.Join(r.home, "nope")
	w, err := Resolve(context.Background(), Options{Flags: Flags{Repo: missing}, Env: env, Facts: &r.facts})
	if err != nil {
		t.Fatal(err)
	}
	if exitcode.From(w.NeedRepo()) != exitcode.Environment || !strings.Contains(w.NeedRepo().Error(), "--repo "+missing+" is not a folder: pass the path of your CDB clone") {
		t.Errorf("missing --repo: %v (exit %d)", w.NeedRepo(), exitcode.From(w.NeedRepo()))
	}
	// Without a clone the rest is still resolved (doctor, env, uninstall).
	if w.SecretsDir == "" || w.StateDir != r.state {
		t.Errorf("workspace without a clone: %+v", w)
	}
	env["CDB_SETUP_REPO"] = missing
	w, _ = Resolve(context.Background(), Options{Env: env, Facts: &r.facts})
	if err := w.NeedRepo(); err == nil || !strings.Contains(err.Error(), "CDB_SETUP_REPO "+missing+" is not a folder") {
		t.Errorf("missing CDB_SETUP_REPO: %v", err)
	}
	// A broken manifest: the clone is known, the error says which file.
	bad := testenv.TempDir(t)
	os.WriteFile(filepath.Join(bad, "cdb-setup.yaml"), []byte("version: 1\nnonsense: [\n"), 0o644)
	w, _ = Resolve(context.Background(), Options{Flags: Flags{Repo: bad}, Env: env, Facts: &r.facts})
	if err := w.NeedRepo(); exitcode.From(err) != exitcode.Failed || !strings.Contains(err.Error(), "cdb-setup.yaml") || w.Repo != bad {
		t.Errorf("broken manifest: %v, repo %q", err, w.Repo)
	}
}

// TestRepoFromGitTopLevel: without --repo, the top-level of the git work
// tree the command runs in (real git).
func TestRepoFromGitTopLevel(t *testing.T) {
	git := testenv.NeedCommand(t, "git")
	r := newRig(t)
	top := testenv.TempDir(t)
	if out, err := exec.Command(git, "-C", top, "init", "-q").CombinedOutput(); err != nil {
		t.Fatalf("git init: %v\n%s", err, out)
	}
	sub := filepath.Join(top, "a", "b")
	os.MkdirAll(sub, 0o755)
	t.Chdir(sub)
	env := platform.MapEnvironment{"HOME": r.home, "USERPROFILE": r.home, "CDB_SETUP_STATE_DIR": r.state}
	w, err := Resolve(context.Background(), Options{Env: env, Facts: &r.facts})
	if err != nil || w.NeedRepo() != nil {
		t.Fatalf("%v %v", err, w.NeedRepo())
	}
	want, _ := filepath.EvalSymlinks(top)
	if got, _ := filepath.EvalSymlinks(w.Repo); got != want {
		t.Errorf("repo = %s, want %s", w.Repo, top)
	}
	if w.ComposeDir != filepath.Join(w.Repo, "infrastructure", "compose") || w.ManifestSource != "built-in CDB default" || w.Project != "cdb" {
		t.Errorf("built-in manifest: compose %s, %s, project %s", w.ComposeDir, w.ManifestSource, w.Project)
	}
	outside := testenv.TempDir(t)
	t.Chdir(outside)
	w, _ = Resolve(context.Background(), Options{Env: env, Facts: &r.facts})
	if err := w.NeedRepo(); exitcode.From(err) != exitcode.Environment || !strings.Contains(err.Error(), "not inside a git repository: run cdb-setup in your CDB clone, or pass --repo DIR") {
		t.Errorf("outside a clone: %v", err)
	}
}

// TestBrokenSavedAnswersIgnored: a damaged answers file does not stop any
// command; it is reported and the next source applies.
func TestBrokenSavedAnswersIgnored(t *testing.T) {
	r := newRig(t)
	r.save(t, "secrets_pth: /typo\n")
	w := r.resolve(t, Flags{}, platform.MapEnvironment{"SECRETS_PATH": filepath.Join(r.home, "sp")})
	if w.SavedErr == nil || w.SecretsSource != SecretsFromPath {
		t.Errorf("saved err %v, source %s", w.SavedErr, w.SecretsSource)
	}
}

// TestWithSecretsDir: the wizard's answer for this run, expanded.
func TestWithSecretsDir(t *testing.T) {
	r := newRig(t)
	w := r.resolve(t, Flags{}, platform.MapEnvironment{})
	c, err := w.WithSecretsDir("~/answered", "from your answer")
	if err != nil || c.SecretsDir != filepath.Join(r.home, "answered") || c.SecretsSource != "from your answer" || w.SecretsSource != SecretsFromDefault {
		t.Errorf("copy %+v / original %s, %v", c.SecretsDir, w.SecretsSource, err)
	}
}
