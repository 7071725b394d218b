package platform

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
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
	// Under Wine the ACL is set and not kept (TestPrivateDACLIsReadBack).
	if err := RestrictFile(f, 0o600, false); err != nil && !(testenv.UnderWine() && errors.Is(err, ErrNotEnforced)) {
		t.Errorf("RestrictFile: %v", err)
	}
}

// TestPrivateDACLIsReadBack: the DACL is read back after it is set. On real
// Windows it reads back as exactly the protected ACL built (as data:
// SameACL); under Wine, which accepts the call and keeps nothing, the folder
// is reported "set but not enforced here" and never as private.
func TestPrivateDACLIsReadBack(t *testing.T) {
	root := testenv.TempDir(t)
	p := filepath.Join(root, "private")
	st, err := EnsurePrivateDir(p, false)
	if err != nil {
		t.Fatal(err)
	}
	f := filepath.Join(p, "X")
	if err := os.WriteFile(f, []byte("v"), 0o600); err != nil {
		t.Fatal(err)
	}
	fileErr := RestrictFile(f, 0o600, false)
	checkErr := CheckPrivateDir(p, false)
	me, err := currentUserSID()
	if err != nil {
		t.Fatal(err)
	}
	got, err := readDACL(p)
	if err != nil {
		t.Fatal(err)
	}
	if ok, why := PermissionsEnforced(p); !ok {
		if !testenv.UnderWine() {
			t.Logf("not enforced on this drive: %s", why)
		}
		if !st.NotEnforced || !strings.Contains(st.Detail, "not enforced here") {
			t.Errorf("EnsurePrivateDir where ACLs are not kept: NotEnforced=%v %q", st.NotEnforced, st.Detail)
		}
		if !errors.Is(fileErr, ErrNotEnforced) {
			t.Errorf("RestrictFile: %v, want ErrNotEnforced", fileErr)
		}
		if !errors.Is(checkErr, ErrNotEnforced) {
			t.Errorf("CheckPrivateDir: %v, want ErrNotEnforced", checkErr)
		}
		if SameACL(got, PrivateSDDL(me.String(), false, true)) {
			t.Errorf("the DACL reads back as private (%s), yet the system is said not to enforce it", got)
		}
		return
	}
	if testenv.UnderWine() {
		t.Fatal("PermissionsEnforced says yes under Wine")
	}
	if st.NotEnforced || fileErr != nil || checkErr != nil {
		t.Errorf("real Windows: NotEnforced=%v %q; RestrictFile: %v; CheckPrivateDir: %v", st.NotEnforced, st.Detail, fileErr, checkErr)
	}
	if !SameACL(got, PrivateSDDL(me.String(), false, true)) {
		t.Errorf("the folder's DACL reads back as %s, want %s", got, PrivateSDDL(me.String(), false, true))
	}
}
