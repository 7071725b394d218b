package platform

import "testing"

// SameACL compares DACLs as data: the protected flag and the ACEs, not the
// auto-inherited flags Windows may add when it prints the descriptor.
func TestSameACL(t *testing.T) {
	own := "D:P(A;OICI;FA;;;S-1-5-21-1-2-3-1001)"
	for _, c := range []struct {
		got  string
		want bool
	}{
		{own, true},
		{"D:PAI(A;OICI;FA;;;S-1-5-21-1-2-3-1001)", true},
		{"D:AI(A;OICI;FA;;;S-1-5-21-1-2-3-1001)", false},                    // not protected: inherits
		{"D:(A;OICI;FA;;;SY)(A;OICI;FA;;;S-1-5-21-1-2-3-1001)", false},      // what Wine reads back
		{own + "(A;OICI;0x1200a9;;;WD)", false},                             // Everyone may read
		{"D:P(A;OICI;FA;;;S-1-5-21-1-2-3-1002)", false},                     // someone else
		{"O:S-1-5-21-1-2-3-1001D:P(A;OICI;FA;;;S-1-5-21-1-2-3-1001)", true}, // owner printed too
	} {
		if got := SameACL(c.got, own); got != c.want {
			t.Errorf("SameACL(%s) = %v, want %v", c.got, got, c.want)
		}
	}
}
