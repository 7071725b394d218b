package checks

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/claire-de-binare/cdb-setup/internal/platform"
	"github.com/claire-de-binare/cdb-setup/internal/testenv"
	"github.com/claire-de-binare/cdb-setup/internal/workspace"
)

// Issue 13 item 1 in doctor: a dotfiles repository in $HOME around the
// secrets folder fails the check with the exact .gitignore line.
func TestSecretsGitCheckDotfilesRepo(t *testing.T) {
	git := testenv.NeedCommand(t, "git")
	home := filepath.Join(testenv.TempDir(t), "home")
	if out, err := exec.Command(git, "init", "-q", home).CombinedOutput(); err != nil {
		t.Fatalf("git init: %v %s", err, out)
	}
	sp := filepath.Join(home, "Documents", ".secrets", ".cdb")
	env := platform.MapEnvironment{"HOME": home, "PATH": os.Getenv("PATH"), "GIT_CONFIG_NOSYSTEM": "1"}
	c := secretsGitCheck(Env{Workspace: &workspace.Workspace{SecretsDir: sp}, Env: env})
	r := c.Run(context.Background())
	if r.Status != Fail || !strings.Contains(r.Fix, filepath.Join(home, ".gitignore")+": /Documents/.secrets/.cdb/") {
		t.Fatalf("dotfiles repo: %+v", r)
	}
	os.WriteFile(filepath.Join(home, ".gitignore"), []byte("/Documents/.secrets/.cdb/\n"), 0o644)
	if r := c.Run(context.Background()); r.Status != OK {
		t.Fatalf("ignored: %+v", r)
	}
}
