package platform

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/claire-de-binare/cdb-setup/internal/testenv"
)

// TestLaunchAgentOnRealMacOS: what only a Mac can check (TestMacOSPlan
// checks the plan with a recording runner on Linux). The LaunchAgent plist
// must pass macOS's own parser (plutil -lint), and the real launchctl must
// hold SECRETS_PATH after the steps and drop it after the undo. The login
// session's previous value is put back afterwards.
func TestLaunchAgentOnRealMacOS(t *testing.T) {
	plutil := testenv.NeedCommand(t, "plutil")
	launchctl := testenv.NeedCommand(t, "launchctl")
	getenv := func() string {
		out, _ := exec.Command(launchctl, "getenv", EnvVar).Output()
		return string(bytes.TrimRight(out, "\n"))
	}
	before := getenv()
	t.Cleanup(func() {
		if before == "" {
			_ = exec.Command(launchctl, "unsetenv", EnvVar).Run()
		} else {
			_ = exec.Command(launchctl, "setenv", EnvVar, before).Run()
		}
	})
	home := testenv.TempDir(t)
	st, _ := LoadState(filepath.Join(home, "state"))
	facts := Facts{OS: "darwin", Home: home}
	value := filepath.Join(home, "Documents", ".secrets", "a&b <c> d")
	o := PersistOptions{Value: value, Facts: facts, Env: MapEnvironment{"HOME": home, "PATH": os.Getenv("PATH")}, State: st}
	runAll(t, LaunchAgentSteps(o))

	if out, err := exec.Command(plutil, "-lint", LaunchAgentPath(facts)).CombinedOutput(); err != nil {
		t.Fatalf("plutil -lint rejects the LaunchAgent: %v\n%s", err, out)
	}
	if got := getenv(); got != value {
		t.Fatalf("launchctl getenv %s = %q, want %q", EnvVar, got, value)
	}
	runAll(t, UndoSteps(st, st.Records, EnvUndoers(), UndoContext{Facts: facts, Env: o.Env, Run: ExecRunner}))
	if _, err := os.Stat(LaunchAgentPath(facts)); err == nil {
		t.Error("LaunchAgent left after undo")
	}
	if got := getenv(); got != "" {
		t.Errorf("launchctl still has %s = %q after undo", EnvVar, got)
	}
}
