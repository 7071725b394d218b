package platform

import "testing"

func TestMergeWSLENV(t *testing.T) {
	cases := []struct {
		cur, merged, replaced, removed string
	}{
		{"", "SECRETS_PATH/p", "", ""},
		{"WT_SESSION", "WT_SESSION:SECRETS_PATH/p", "", "WT_SESSION"},
		{"WT_SESSION:WT_PROFILE_ID:", "WT_SESSION:WT_PROFILE_ID:SECRETS_PATH/p", "", "WT_SESSION:WT_PROFILE_ID"},
		{"A/l:SECRETS_PATH/u:B", "A/l:SECRETS_PATH/p:B", "SECRETS_PATH/u", "A/l:SECRETS_PATH/u:B"},
		{"secrets_path:B", "SECRETS_PATH/p:B", "secrets_path", "secrets_path:B"},
		{"SECRETS_PATH/p", "SECRETS_PATH/p", "SECRETS_PATH/p", "SECRETS_PATH/p"},
		{"SECRETS_PATH_OLD/p:X", "SECRETS_PATH_OLD/p:X:SECRETS_PATH/p", "", "SECRETS_PATH_OLD/p:X"},
	}
	for _, c := range cases {
		m, r := MergeWSLENV(c.cur, "SECRETS_PATH/p")
		if m != c.merged || r != c.replaced {
			t.Errorf("MergeWSLENV(%q) = %q, %q; want %q, %q", c.cur, m, r, c.merged, c.replaced)
		}
		if got := RemoveWSLENV(m, "SECRETS_PATH", r); got != c.removed {
			t.Errorf("RemoveWSLENV(%q) = %q; want %q", m, got, c.removed)
		}
	}
}
