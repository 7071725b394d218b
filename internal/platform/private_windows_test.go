package platform

import (
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/windows"

	"github.com/claire-de-binare/cdb-setup/internal/testenv"
)

// Wine accepts SetNamedSecurityInfo but enforces nothing, so the ACL we
// build is checked here as data; that it keeps other users out is verified
// only on real Windows.
func TestPrivateSDDLIsProtectedAndOwnerOnly(t *testing.T) {
	sid := "S-1-5-21-1-2-3-1001"
	for _, c := range []struct {
		system, folder bool
		want           string
	}{
		{false, true, "D:P(A;OICI;FA;;;S-1-5-21-1-2-3-1001)"},
		{true, true, "D:P(A;OICI;FA;;;S-1-5-21-1-2-3-1001)(A;OICI;FA;;;SY)"},
		{false, false, "D:P(A;;FA;;;S-1-5-21-1-2-3-1001)"},
	} {
		got := PrivateSDDL(sid, c.system, c.folder)
		if got != c.want {
			t.Errorf("PrivateSDDL(system=%v, folder=%v) = %s, want %s", c.system, c.folder, got, c.want)
		}
		sd, err := windows.SecurityDescriptorFromString(got)
		if err != nil {
			t.Fatalf("%s does not parse: %v", got, err)
		}
		ctrl, _, err := sd.Control()
		if err != nil || ctrl&windows.SE_DACL_PROTECTED == 0 {
			t.Errorf("%s: DACL not protected (inheritance from the parent would let others in)", got)
		}
	}
}

func TestEnsurePrivateDirOnWindowsCreatesAndAppliesDACL(t *testing.T) {
	root := testenv.TempDir(t)
	p := filepath.Join(root, "Documents", ".secrets", ".cdb")
	st, err := EnsurePrivateDir(p, false)
	if err != nil {
		t.Fatal(err)
	}
	if !st.Created {
		t.Error("Created = false")
	}
	if fi, err := os.Stat(p); err != nil || !fi.IsDir() {
		t.Fatalf("folder not created: %v", err)
	}
	f := filepath.Join(p, "X")
	if err := os.WriteFile(f, []byte("v"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := RestrictFile(f, 0o600, false); err != nil {
		t.Errorf("RestrictFile: %v", err)
	}
}
