package cli

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/claire-de-binare/cdb-setup/internal/platform"

	"github.com/claire-de-binare/cdb-setup/internal/testenv"
)

func TestHookFlagsAndNotARepo(t *testing.T) {
	f := &Factory{IO: &IOStreams{In: strings.NewReader(""), Out: &bytes.Buffer{}, ErrOut: &bytes.Buffer{}}, Global: &GlobalOptions{}, Env: platform.MapEnvironment{}, Context: context.Background()}
	var got *HookInstallOptions
	cmd := NewCmdHookInstall(f, func(o *HookInstallOptions) error { got = o; return nil })
	cmd.SetArgs([]string{"--install-gitleaks"})
	if err := cmd.Execute(); err != nil || got == nil || !got.InstallGitleaks {
		t.Fatalf("flag not wired: %v %+v", err, got)
	}

	testenv.NeedCommand(t, "git")
	dir := testenv.TempDir(t)
	var errOut bytes.Buffer
	env := platform.MapEnvironment{"PATH": "/usr/bin:/bin", "HOME": dir, "CDB_SETUP_STATE_DIR": filepath.Join(dir, "state"), "GIT_CONFIG_NOSYSTEM": "1"}
	code := Main(context.Background(), []string{"hook", "status", "--repo", dir}, &IOStreams{In: strings.NewReader(""), Out: &bytes.Buffer{}, ErrOut: &errOut}, env)
	if code != 3 || !strings.Contains(errOut.String(), "not inside a git repository") {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
}
