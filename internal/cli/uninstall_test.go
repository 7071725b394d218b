package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/claire-de-binare/cdb-setup/internal/platform"
	"github.com/claire-de-binare/cdb-setup/internal/testenv"
)

// TestUninstallSaysWhatItKeeps: with only kept records (the secrets folder),
// uninstall does not claim "nothing recorded"; it says they were kept.
// uninstall --purge then removes the folder and the empty parent folder
// (Documents/.secrets) that init created with it, and keeps the parent that
// was already there.
func TestUninstallSaysWhatItKeeps(t *testing.T) {
	env, home := fixtureEnv(t)
	docs := filepath.Join(home, "Documents")
	if err := os.Mkdir(docs, 0o755); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(docs, ".secrets", ".cdb")
	sp := []string{"--secrets-path", dir}
	if r := runCLI(t, env, "", append([]string{"secrets", "init", "--no-input"}, sp...)...); r.code != 0 {
		t.Fatalf("init: exit %d\n%s", r.code, r.stderr)
	}
	st, err := platform.LoadState(env["CDB_SETUP_STATE_DIR"])
	if err != nil || len(st.Records) == 0 {
		t.Fatalf("init recorded nothing: %v", err)
	}

	r := runCLI(t, env, "", append([]string{"uninstall"}, sp...)...)
	if r.code != 0 || strings.Contains(r.stderr, "nothing recorded") || !strings.Contains(r.stderr, "nothing else to undo") {
		t.Fatalf("uninstall with %d kept records: exit %d\n%s", len(st.Records), r.code, r.stderr)
	}

	r = runCLI(t, env, "", append([]string{"uninstall", "--purge"}, sp...)...)
	if r.code != 0 || !strings.Contains(r.stderr, "deleted the secrets folder "+dir) {
		t.Fatalf("purge: exit %d\n%s", r.code, r.stderr)
	}
	if _, err := os.Lstat(filepath.Join(docs, ".secrets")); err == nil {
		t.Fatalf("uninstall --purge left the empty %s it created\n%s", filepath.Join(docs, ".secrets"), r.stderr)
	}
	if _, err := os.Stat(docs); err != nil {
		t.Fatalf("uninstall --purge removed %s, which existed before: %v", docs, err)
	}
}

// TestUninstallPurgeKeepsAParentThatIsNotEmpty: a created parent that holds
// something else by now is the user's: it stays.
func TestUninstallPurgeKeepsAParentThatIsNotEmpty(t *testing.T) {
	env, home := fixtureEnv(t)
	parent := filepath.Join(home, "Documents", ".secrets")
	dir := filepath.Join(parent, ".cdb")
	sp := []string{"--secrets-path", dir}
	if r := runCLI(t, env, "", append([]string{"secrets", "init", "--no-input"}, sp...)...); r.code != 0 {
		t.Fatalf("init: exit %d\n%s", r.code, r.stderr)
	}
	mine := filepath.Join(parent, "other-project")
	if err := os.WriteFile(mine, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := runCLI(t, env, "", append([]string{"uninstall", "--purge"}, sp...)...)
	if r.code != 0 || !strings.Contains(r.stderr, "deleted the secrets folder "+dir) {
		t.Fatalf("purge: exit %d\n%s", r.code, r.stderr)
	}
	if _, err := os.Stat(mine); err != nil {
		t.Fatalf("purge removed a file it did not create: %v", err)
	}
}

// TestSecretsFixCheckDoNotLoop is the loop from the issue, through the real
// command line: init, check, fix, check. check passes every time and fix
// changes nothing; where this system does not keep private permissions
// (Wine), init and fix say "not enforced" and never claim a private ACL
// with ✓; elsewhere those words never appear.
func TestSecretsFixCheckDoNotLoop(t *testing.T) {
	env, home := fixtureEnv(t)
	dir := filepath.Join(home, "s")
	sp := []string{"--secrets-path", dir}
	r := runCLI(t, env, "", append([]string{"secrets", "init", "--no-input"}, sp...)...)
	if r.code != 0 {
		t.Fatalf("init: exit %d\n%s", r.code, r.stderr)
	}
	enforced, _ := platform.PermissionsEnforced(dir)
	claims := func(cmd, out string) {
		t.Helper()
		says := strings.Contains(out, "not enforced")
		if says == enforced {
			t.Errorf("%s (permissions enforced here: %v):\n%s", cmd, enforced, out)
		}
		for _, line := range strings.Split(out, "\n") {
			if !enforced && strings.HasPrefix(line, "✓") && strings.Contains(line, "private ACL") && !strings.Contains(line, "not enforced") {
				t.Errorf("%s claims %q where ACLs are not kept", cmd, line)
			}
		}
	}
	claims("init", r.stderr)
	for i := 0; i < 2; i++ {
		if r := runCLI(t, env, "", append([]string{"secrets", "check"}, sp...)...); r.code != 0 {
			t.Fatalf("check %d: exit %d\n%s", i+1, r.code, r.stderr)
		}
		r := runCLI(t, env, "", append([]string{"secrets", "fix", "--yes"}, sp...)...)
		if r.code != 0 || strings.Contains(r.stderr, "Restricted") || strings.Contains(r.stderr, "corrected") {
			t.Fatalf("fix %d after a clean check: exit %d\n%s", i+1, r.code, r.stderr)
		}
		if !enforced {
			claims("fix", r.stderr)
		}
	}
}

// TestUninstallDryRunNamesTheStack: issue 14. uninstall undoes recorded
// changes only; --dry-run says that the stack (containers and volumes) is
// left and gives the commands that remove it, exactly as they run here
// (with this run's --repo, --secrets-path, --project-name), down --volumes
// as the last option.
func TestUninstallDryRunNamesTheStack(t *testing.T) {
	env, home := fixtureEnv(t)
	dir := filepath.Join(home, "s")
	r := runCLI(t, env, "", "uninstall", "--dry-run", "--secrets-path", dir, "--project-name", "mycdb")
	if r.code != 0 {
		t.Fatalf("uninstall --dry-run: exit %d\n%s", r.code, r.stderr)
	}
	for _, want := range []string{
		"not undone: the stack mycdb",
		"`cdb-setup down --secrets-path " + platform.ShellArg(dir) + " --project-name mycdb` stops and removes the containers",
		"`cdb-setup down --secrets-path " + platform.ShellArg(dir) + " --project-name mycdb --volumes` also deletes the volumes and the data in them (asks first; the last option)",
	} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("uninstall --dry-run lacks %q:\n%s", want, r.stderr)
		}
	}
	n := 0
	for _, c := range suggestedCommands(r.stderr) {
		if strings.HasPrefix(c, "cdb-setup down") {
			n++
		}
		if err := checkSuggested(c); err != nil {
			t.Errorf("suggests %q: %v", c, err)
		}
	}
	if n != 2 {
		t.Errorf("%d down commands suggested, want 2:\n%s", n, r.stderr)
	}
	// Outside a clone it still says so, with commands to run in the clone.
	env["CDB_SETUP_REPO"] = testenv.TempDir(t)
	r = runCLI(t, env, "", "uninstall", "--dry-run", "--secrets-path", dir)
	if !strings.Contains(r.stderr, "not undone: the stack's containers and volumes") || !strings.Contains(r.stderr, "`cdb-setup down --volumes`") {
		t.Errorf("outside a clone:\n%s", r.stderr)
	}
}
