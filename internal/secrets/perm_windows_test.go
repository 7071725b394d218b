package secrets

import (
	"testing"

	"github.com/claire-de-binare/cdb-setup/internal/platform"
)

// The DACL check must accept exactly what platform.RestrictFile sets.
func TestPrivateDACLMatchesPlatform(t *testing.T) {
	sid := "S-1-5-21-1-2-3-1001"
	for _, sys := range []bool{false, true} {
		if !privateDACL(platform.PrivateSDDL(sid, sys, false), sid) {
			t.Errorf("privateDACL rejects platform.PrivateSDDL(includeSystem=%v)", sys)
		}
	}
	if privateDACL(platform.PrivateSDDL(sid, false, true), sid) {
		t.Error("a folder DACL (inheritable ACEs) passed as a file DACL")
	}
}
