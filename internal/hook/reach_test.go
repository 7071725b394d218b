package hook

import (
	"context"
	"os"
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

// A git that fails is "cannot tell", never "fine", wherever git could find a
// repository (a .git above the folder).
func TestSecretsReachGitFailsIsUnknown(t *testing.T) {
	env := hermeticEnv(t, "")
	home := env["HOME"]
	base := t.TempDir()
	if err := os.Mkdir(filepath.Join(base, ".git"), 0o700); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(base, "somewhere")
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
	// With no .git anywhere above, no work tree can hold the folder, and
	// that is known without git.
	if gitCouldFindRepo(env, t.TempDir()) {
		t.Log("a .git above the temp dir: the case without one cannot be made here")
		return
	}
	free := filepath.Join(t.TempDir(), "somewhere")
	if r := CheckSecretsReach(context.Background(), noGit, free); len(r.Unknown) != 0 || len(r.Trees) != 0 {
		t.Fatalf("no .git above, no git: %+v", r)
	}
}

// gitCouldFindRepo only skips git where git itself finds no repository:
// checked against real git in a folder with no .git above it, in a work
// tree, in a linked work tree (.git is a file), in a bare repository, and
// with GIT_DIR set.
func TestGitCouldFindRepoAgreesWithGit(t *testing.T) {
	env := hermeticEnv(t, "")
	root := t.TempDir()
	if gitCouldFindRepo(env, root) {
		// Some folder above the test's temp dir is a work tree (a
		// developer's $TMPDIR inside a clone): the "none" case cannot be
		// made here, but git must still be asked.
		t.Logf("a .git above %s: only the positive cases are checked", root)
	} else if out, code := runCmd(t, env, root, "git", "rev-parse", "--show-toplevel"); code == 0 {
		t.Fatalf("no .git above %s but git found a work tree: %s", root, out)
	}

	plain := filepath.Join(root, "plain", "deep")
	writeFile(t, filepath.Join(plain, "x"), "x", 0o600)
	if gitCouldFindRepo(env, plain) != gitCouldFindRepo(env, root) {
		t.Fatalf("%s: answer differs from its parent's", plain)
	}

	tree := filepath.Join(root, "tree")
	gitRun(t, env, "", "init", "-q", "-b", "main", tree)
	writeFile(t, filepath.Join(tree, "README.md"), "x\n", 0o644)
	gitRun(t, env, tree, "add", "-A")
	gitRun(t, env, tree, "commit", "-q", "--no-verify", "-m", "init")
	inTree := filepath.Join(tree, "a", "b")
	writeFile(t, filepath.Join(inTree, "x"), "x", 0o600)
	linked := filepath.Join(root, "linked")
	gitRun(t, env, tree, "worktree", "add", "-q", linked)
	bare := filepath.Join(root, "bare.git")
	gitRun(t, env, "", "init", "-q", "--bare", bare)

	for _, dir := range []string{tree, inTree, linked} {
		if !gitCouldFindRepo(env, dir) {
			t.Errorf("%s: git finds a work tree there, but git would not be asked", dir)
		}
	}
	// A bare repository has no .git entry; git finds it but it has no work
	// tree, so nothing in it can be committed: same answer as without git.
	if r := CheckSecretsReach(context.Background(), env, filepath.Join(bare, "x")); len(r.Trees) != 0 || len(r.Unknown) != 0 {
		t.Errorf("bare repository: %+v", r)
	}
	if out, code := runCmd(t, env, bare, "git", "rev-parse", "--show-toplevel"); code == 0 {
		t.Errorf("git found a work tree in a bare repository: %s", out)
	}
	withGitDir := platform.MapEnvironment{}
	for k, v := range env {
		withGitDir[k] = v
	}
	withGitDir["GIT_DIR"] = filepath.Join(tree, ".git")
	if !gitCouldFindRepo(withGitDir, plain) {
		t.Errorf("GIT_DIR set: git must be asked")
	}
	// The whole check agrees: no work tree around the plain folder; the
	// folder in the tree is inside it.
	ctx := context.Background()
	if r := CheckSecretsReach(ctx, env, plain); len(r.Trees) != 0 && !strings.HasPrefix(plain, r.Trees[0].Top) {
		t.Errorf("plain folder: %+v", r)
	}
	if r := CheckSecretsReach(ctx, env, inTree); len(r.Trees) == 0 || r.Trees[0].Top != resolve(tree) {
		t.Errorf("folder in a work tree: %+v", r)
	}
}
