package hook

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/claire-de-binare/cdb-setup/internal/testenv"
)

// A `go install` build of gitleaks answers "version is set by build
// process"; FindGitleaks reads the module version through `go version -m`
// (scripts/test.sh installs gitleaks that way, at the version of
// GitleaksModule). Without Go on PATH the version is unknown, never guessed,
// and the command is probed instead.
func TestFindGitleaksVersionOfAGoInstalledBuild(t *testing.T) {
	dir := needGitleaks(t)
	goBin := testenv.NeedCommand(t, "go")
	out, _ := runCmd(t, hermeticEnv(t, dir), "", "gitleaks", "version")
	testenv.Need(t, strings.Contains(out, "set by build process"),
		"a `go install` build of gitleaks (this one prints its version itself)")
	want := strings.TrimPrefix(GitleaksModule[strings.LastIndex(GitleaksModule, "@")+1:], "v")

	env := hermeticEnv(t, dir)
	env["PATH"] = env["PATH"] + string(os.PathListSeparator) + filepath.Dir(goBin)
	env["GOCACHE"], env["GOPATH"] = t.TempDir(), t.TempDir()
	g, err := FindGitleaks(context.Background(), env, runtime.GOOS)
	if err != nil {
		t.Fatal(err)
	}
	if g.Version != want || !g.GitCommand {
		t.Errorf("with Go on PATH: version %q (git command %v), want %q (true)", g.Version, g.GitCommand, want)
	}

	g, err = FindGitleaks(context.Background(), hermeticEnv(t, dir), runtime.GOOS)
	if err != nil {
		t.Fatal(err)
	}
	if g.Version != "" || !g.GitCommand {
		t.Errorf("without Go: version %q (git command %v), want unknown and the git command found by probing", g.Version, g.GitCommand)
	}
}
