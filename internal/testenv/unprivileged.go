package testenv

import (
	"io"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// unprivilegedEnv marks the re-run of a test by RerunUnprivileged.
const unprivilegedEnv = "CDB_SETUP_TEST_UNPRIVILEGED"

// Unprivileged reports whether this process is the re-run of a test that
// RerunUnprivileged started as the user nobody.
func Unprivileged() bool { return os.Getenv(unprivilegedEnv) == "1" }

// Nobody is the uid and gid of the user nobody, for handing a fixture to
// the re-run (os.Chown). It fails t where there is no such user.
func Nobody(t testing.TB) (uid, gid int) {
	t.Helper()
	u, err := user.Lookup("nobody")
	Need(t, err == nil, "the user nobody")
	uid, err1 := strconv.Atoi(u.Uid)
	gid, err2 := strconv.Atoi(u.Gid)
	if err1 != nil || err2 != nil {
		t.Fatalf("user nobody has uid %q gid %q", u.Uid, u.Gid)
	}
	return uid, gid
}

// SharedTempDir is a temporary folder the user nobody can enter (0755 and
// every parent traversable), for fixtures a RerunUnprivileged child uses.
func SharedTempDir(t testing.TB) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "cdbtest-shared-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { removeTree(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// RerunUnprivileged runs the current test again, in a copy of the test
// binary, as the user nobody (setpriv from util-linux), with env added, and
// fails t if that run fails or does not run the test. Root passes every
// permission check, and CI runs as root: this is how a test checks what a
// user without the permission sees. The child knows itself by Unprivileged.
func RerunUnprivileged(t *testing.T, env ...string) {
	t.Helper()
	Need(t, runtime.GOOS == "linux", "Linux, to run a test as another user")
	setpriv := NeedCommand(t, "setpriv")
	uid, gid := Nobody(t)
	dir := SharedTempDir(t)
	bin := filepath.Join(dir, "test.bin")
	copyFile(t, os.Args[0], bin)
	// The child's HOME and TMPDIR (its own t.TempDir()s).
	home := filepath.Join(dir, "home")
	if err := os.Mkdir(home, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(home, uid, gid); err != nil {
		t.Fatal(err)
	}
	var run []string
	for _, part := range strings.Split(t.Name(), "/") {
		run = append(run, "^"+regexp.QuoteMeta(part)+"$")
	}
	cmd := exec.Command(setpriv, "--reuid=nobody", "--regid=nogroup", "--clear-groups",
		bin, "-test.run="+strings.Join(run, "/"), "-test.count=1", "-test.v")
	cmd.Dir = dir
	cmd.Env = append(append(os.Environ(), unprivilegedEnv+"=1", "HOME="+home, "TMPDIR="+home), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("as nobody: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "--- PASS: "+t.Name()) {
		t.Fatalf("as nobody: the test did not run:\n%s", out)
	}
}

func copyFile(t testing.TB, from, to string) {
	t.Helper()
	in, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}
