package stack

import "testing"

// `compose config --hash '*'` prints "service hash" lines; warnings and
// other lines mixed into its output are not hashes.
func TestParseConfigHashes(t *testing.T) {
	h := "737d810458449656e0c945d1ec6621196cb6fecd1fdc92ddfb977b767f0c6dd1"
	got := ParseConfigHashes("WARN[0000] the attribute `version` is obsolete\ndemo_app " + h + "\r\n\ndemo_redis short\n")
	if len(got) != 1 || got["demo_app"] != h {
		t.Fatalf("got %v", got)
	}
}
