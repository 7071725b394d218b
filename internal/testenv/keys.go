package testenv

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// SSHKey makes a real key pair with ssh-keygen at dir/name (and name.pub):
// typ is "ed25519" or "rsa"; an empty passphrase leaves the key
// unprotected. comment names it. It returns the private key's path.
func SSHKey(t testing.TB, dir, name, typ, passphrase, comment string) string {
	t.Helper()
	keygen := NeedCommand(t, "ssh-keygen")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, name)
	args := []string{"-q", "-t", typ, "-N", passphrase, "-C", comment, "-f", p}
	if typ == "rsa" {
		args = append(args, "-b", "2048")
	}
	// The passphrase is a test fixture, not a secret of anyone's.
	if out, err := exec.Command(keygen, args...).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen -t %s: %v: %s", typ, err, out)
	}
	return p
}

// AgeKey makes a real age identity file with age-keygen at path and returns
// its public key (age1...).
func AgeKey(t testing.TB, path string) string {
	t.Helper()
	keygen := NeedCommand(t, "age-keygen")
	if out, err := exec.Command(keygen, "-o", path).CombinedOutput(); err != nil {
		t.Fatalf("age-keygen: %v: %s", err, out)
	}
	out, err := exec.Command(keygen, "-y", path).Output()
	if err != nil {
		t.Fatalf("age-keygen -y: %v", err)
	}
	return strings.TrimSpace(string(out))
}
