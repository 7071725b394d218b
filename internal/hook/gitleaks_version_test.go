package hook

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/claire-de-binare/cdb-setup/internal/testenv"
)

// A `go install` build of gitleaks answers "version is set by build
// process"; FindGitleaks reads the module version from the build information
// in the binary (scripts/test.sh installs gitleaks that way, at the version
// of GitleaksModule).
func TestFindGitleaksVersionOfAGoInstalledBuild(t *testing.T) {
	dir := needGitleaks(t)
	env := hermeticEnv(t, dir)
	out, _ := runCmd(t, env, "", "gitleaks", "version")
	testenv.Need(t, strings.Contains(out, "set by build process"),
		"a `go install` build of gitleaks (this one prints its version itself)")
	want := strings.TrimPrefix(GitleaksModule[strings.LastIndex(GitleaksModule, "@")+1:], "v")

	g, err := FindGitleaks(context.Background(), env, runtime.GOOS)
	if err != nil {
		t.Fatal(err)
	}
	if g.Version != want || !g.GitCommand {
		t.Errorf("version %q (git command %v), want %q (true)", g.Version, g.GitCommand, want)
	}
}

// The scan finds the line wherever the reads cut it, and nothing in a file
// without it or with a broken version.
func TestGoInstalledVersionScan(t *testing.T) {
	module := GitleaksModule[:strings.LastIndex(GitleaksModule, "@")]
	line := "\nmod\t" + module + "\tv8.21.2\th1:abc=\n"
	for _, pad := range []int{0, 1, 1<<20 - 20, 1<<20 - 3, 1 << 20, 3<<20 + 7} {
		p := filepath.Join(testenv.TempDir(t), "gitleaks")
		data := append(bytes.Repeat([]byte{'x'}, pad), line...)
		if err := os.WriteFile(p, data, 0o755); err != nil {
			t.Fatal(err)
		}
		if v := goInstalledVersion(p); v != "v8.21.2" {
			t.Errorf("padding %d: got %q", pad, v)
		}
	}
	for name, content := range map[string]string{
		"no line":        "path\tx\nmod\tgithub.com/other/tool\tv1.2.3\t\n",
		"broken version": "\nmod\t" + module + "\t(devel)\t\n",
		"cut":            "\nmod\t" + module + "\tv8.1",
	} {
		p := filepath.Join(testenv.TempDir(t), "gitleaks")
		if err := os.WriteFile(p, []byte(content), 0o755); err != nil {
			t.Fatal(err)
		}
		if v := goInstalledVersion(p); v != "" {
			t.Errorf("%s: got %q, want none", name, v)
		}
	}
}
