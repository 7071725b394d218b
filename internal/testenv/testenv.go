// Package testenv is for tests only: it decides what a test does when a real
// component (a shell, gitleaks, a Secret Service, Docker, Wine) is absent.
//
// On a developer laptop a missing component skips the test. CI sets
// CDB_SETUP_REQUIRE_ALL=1, and then every such skip is a failure, so a CI run
// can never pass by quietly not testing something.
package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

// RequireAll reports whether CI asked for every component to be present.
func RequireAll() bool {
	v := os.Getenv("CDB_SETUP_REQUIRE_ALL")
	return v != "" && v != "0" && v != "false"
}

// Need skips (or, under CDB_SETUP_REQUIRE_ALL=1, fails) the test when ok is
// false. what names the component and how to get it.
func Need(t testing.TB, ok bool, what string) {
	t.Helper()
	if ok {
		return
	}
	if RequireAll() {
		t.Fatalf("required component missing (CDB_SETUP_REQUIRE_ALL=1): %s", what)
	}
	t.Skipf("component missing, skipping: %s", what)
}

// NeedCommand returns the path of name on PATH, or skips/fails the test.
//
// Under Wine only Windows programs run, and the tools these tests drive (git,
// gitleaks, pre-commit, real shells) are Linux binaries there: such a test
// is skipped under Wine even in CI, because its Linux run covers the same
// behaviour and nothing installable could make it run.
func NeedCommand(t testing.TB, name string) string {
	t.Helper()
	if UnderWine() {
		t.Skipf("%s: Linux programs cannot run under Wine; covered by the Linux run of this test", name)
	}
	p, err := exec.LookPath(name)
	Need(t, err == nil, fmt.Sprintf("command %q on PATH (install it with scripts/test.sh)", name))
	return p
}

// TempDir is t.TempDir that also works under Wine: Wine 8 fails os.RemoveAll
// of a non-empty folder, so cleanup removes entries one by one, deepest first.
func TempDir(t testing.TB) string {
	t.Helper()
	if runtime.GOOS != "windows" {
		return t.TempDir()
	}
	dir, err := os.MkdirTemp("", "cdbtest-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { removeTree(dir) })
	return dir
}

func removeTree(dir string) {
	var paths []string
	_ = filepath.Walk(dir, func(p string, _ os.FileInfo, err error) error {
		paths = append(paths, p)
		return nil
	})
	for i := len(paths) - 1; i >= 0; i-- {
		_ = os.Chmod(paths[i], 0o700)
		_ = os.Remove(paths[i])
	}
}

// UnderWine reports whether this test binary is a Windows program running
// under Wine (the CI's way of running the Windows tests on Linux).
func UnderWine() bool { return underWine() }

// NeedSecretService skips (fails under CDB_SETUP_REQUIRE_ALL=1) a Linux test
// that needs a D-Bus session with an unlocked Secret Service; scripts/test.sh
// runs the tests inside one (scripts/with-secret-service.sh). Windows (Wine's
// Credential Manager) and macOS need no session bus.
func NeedSecretService(t testing.TB) {
	t.Helper()
	if runtime.GOOS == "windows" || runtime.GOOS == "darwin" {
		return
	}
	Need(t, os.Getenv("DBUS_SESSION_BUS_ADDRESS") != "",
		"a D-Bus session with an unlocked Secret Service (scripts/with-secret-service.sh; scripts/test.sh runs the tests inside one)")
}

// CDBReference returns the real CDB repository the tests compare against
// (its compose files): the clone CDB_SETUP_CDB_REFERENCE names, or else the
// verbatim copy of its infrastructure/compose/ committed in
// testdata/cdb-reference (see its README). It skips/fails the test only when
// the variable names a folder without those files.
func CDBReference(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("CDB_SETUP_CDB_REFERENCE")
	if dir == "" {
		_, file, _, _ := runtime.Caller(0)
		dir = filepath.Join(filepath.Dir(file), "testdata", "cdb-reference")
	}
	st, err := os.Stat(filepath.Join(dir, "infrastructure", "compose", "base.yml"))
	Need(t, err == nil && !st.IsDir(), "the real CDB repository: CDB_SETUP_CDB_REFERENCE="+dir+" has no infrastructure/compose/base.yml")
	return dir
}
