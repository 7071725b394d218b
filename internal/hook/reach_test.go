package hook

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/claire-de-binare/cdb-setup/internal/platform"
)

// A dotfiles repository in $HOME encloses the default secrets folder
// (<Documents>/.secrets/.cdb): git there must ignore it, whatever the clone's
// own .gitignore says.
func TestSecretsReachDotfilesRepo(t *testing.T) {
	env := hermeticEnv(t, "")
	home := filepath.Join(t.TempDir(), "home")
	gitRun(t, env, "", "init", "-q", home)
	clone := filepath.Join(home, "src", "cdb")
	gitRun(t, env, "", "init", "-q", clone)
	secrets := filepath.Join(home, "Documents", ".secrets", ".cdb")
	ctx := context.Background()

	r := CheckSecretsReach(ctx, env, secrets)
	bad := r.AtRisk()
	if bad == nil || len(r.Unknown) != 0 {
		t.Fatalf("dotfiles repo not reported: %+v", r)
	}
	if bad.Top != resolve(home) || bad.GitignoreLine != "/Documents/.secrets/.cdb/" {
		t.Fatalf("wrong tree or line: %+v", bad)
	}
	writeFile(t, filepath.Join(home, ".gitignore"), bad.GitignoreLine+"\n", 0o644)
	if r := CheckSecretsReach(ctx, env, secrets); r.AtRisk() != nil || len(r.Trees) != 1 {
		t.Fatalf("the suggested line did not help: %+v", r)
	}

	// A folder inside the clone, ignored by the clone: the outer dotfiles
	// repository never descends into a nested repository.
	inClone := filepath.Join(clone, ".secrets")
	writeFile(t, filepath.Join(clone, ".gitignore"), "/.secrets/\n", 0o644)
	r = CheckSecretsReach(ctx, env, inClone)
	if r.AtRisk() != nil || len(r.Trees) != 2 || !r.Trees[1].Hidden {
		t.Fatalf("nested clone: %+v", r)
	}
	// ... unless the outer repository already tracked files there before
	// the clone was made.
	home2 := filepath.Join(t.TempDir(), "home")
	gitRun(t, env, "", "init", "-q", home2)
	writeFile(t, filepath.Join(home2, "src", "cdb", ".secrets", "POSTGRES_PASSWORD"), "x", 0o600)
	gitRun(t, env, home2, "add", "-A")
	gitRun(t, env, "", "init", "-q", filepath.Join(home2, "src", "cdb"))
	writeFile(t, filepath.Join(home2, "src", "cdb", ".gitignore"), "/.secrets/\n", 0o644)
	if r := CheckSecretsReach(ctx, env, filepath.Join(home2, "src", "cdb", ".secrets")); r.AtRisk() == nil || r.AtRisk().Top != resolve(home2) || !r.AtRisk().Tracked {
		t.Fatalf("tracked in the outer repo not reported: %+v", r)
	}
}

// CDB as a submodule; the secrets folder in the superproject.
func TestSecretsReachSuperproject(t *testing.T) {
	env := hermeticEnv(t, "")
	base := t.TempDir()
	sub := filepath.Join(base, "cdb-origin")
	gitRun(t, env, "", "init", "-q", "-b", "main", sub)
	writeFile(t, filepath.Join(sub, "README.md"), "x\n", 0o644)
	gitRun(t, env, sub, "add", "-A")
	gitRun(t, env, sub, "commit", "-q", "-m", "init")
	super := filepath.Join(base, "super")
	gitRun(t, env, "", "init", "-q", super)
	gitRun(t, env, super, "-c", "protocol.file.allow=always", "submodule", "add", "-q", sub, "cdb")
	secrets := filepath.Join(super, "secrets")
	r := CheckSecretsReach(context.Background(), env, secrets)
	if bad := r.AtRisk(); bad == nil || bad.Top != resolve(super) || bad.GitignoreLine != "/secrets/" {
		t.Fatalf("superproject not reported: %+v", r)
	}
}

// A git that fails is "cannot tell", never "fine".
func TestSecretsReachGitFailsIsUnknown(t *testing.T) {
	env := hermeticEnv(t, "")
	home := env["HOME"]
	dir := filepath.Join(t.TempDir(), "somewhere")
	// A broken global config: every real git call fails.
	writeFile(t, filepath.Join(home, ".gitconfig"), "[core\n", 0o644)
	r := CheckSecretsReach(context.Background(), env, dir)
	if len(r.Unknown) == 0 || r.AtRisk() != nil {
		t.Fatalf("failing git: %+v", r)
	}
	if !strings.Contains(r.Unknown[0], "cannot tell") {
		t.Errorf("message: %s", r.Unknown[0])
	}
	noGit := platform.MapEnvironment{"PATH": t.TempDir(), "HOME": home}
	if r := CheckSecretsReach(context.Background(), noGit, dir); len(r.Unknown) == 0 || !strings.Contains(r.Unknown[0], "git is not installed") {
		t.Fatalf("missing git: %+v", r)
	}
}
