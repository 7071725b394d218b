package manifest

import (
	"strings"
	"testing"
)

// TestParseRoundTrip: the built-in default survives Marshal → Parse.
func TestParseRoundTrip(t *testing.T) {
	b, err := Default().Marshal()
	if err != nil {
		t.Fatal(err)
	}
	m, err := Parse(b)
	if err != nil {
		t.Fatalf("the default does not parse back: %v", err)
	}
	if len(m.Secrets) != 10 || m.Secrets["POSTGRES_PASSWORD_DSN"].Template != DSNTemplate {
		t.Fatal("round trip lost secrets")
	}
}

func TestParseRejectsTerse(t *testing.T) {
	for _, bad := range []string{
		"",
		"project: cdb\ncompose_dir: x\nprofiles: {dev: [base.yml]}\nsecretz: {}\n",                                      // typo: unknown key
		"project: cdb\ncompose_dir: ../x\nprofiles: {dev: [base.yml]}\n",                                                // leaves the repo
		"project: cdb\ncompose_dir: x\nprofiles: {dev: [base.yml]}\nsecrets: {A: {kind: generated, length: 4}}\n",       // too short
		"project: cdb\ncompose_dir: x\nprofiles: {dev: [base.yml]}\nsecrets: {A: {kind: derived}}\n",                    // no template
		"project: cdb\ncompose_dir: x\nprofiles: {dev: [base.yml]}\nsecrets: {../A: {kind: external}}\n",                // not a file name
		"project: cdb\ncompose_dir: x\nprofiles: {dev: [base.yml]}\nsecrets: {A: {kind: generated, alphabet: emoji}}\n", // unknown alphabet
	} {
		if _, err := Parse([]byte(bad)); err == nil {
			t.Errorf("accepted %q", bad)
		}
	}
}

// FuzzParse: Parse never panics, and whatever it accepts is valid, takes
// every key it leaves out from the default, and every
// secret name is a plain file name, and compose files stay in the repo.
func FuzzParse(f *testing.F) {
	b, _ := Default().Marshal()
	f.Add(b)
	f.Add([]byte("project: cdb\ncompose_dir: infrastructure/compose\nprofiles: {dev: [base.yml]}\n"))
	f.Add([]byte("\xef\xbb\xbfversion: 1\n"))
	// Partial manifests: overrides of the default, key by key.
	f.Add([]byte("targets: [cdb_redis]\n"))
	f.Add([]byte("overlays: {}\nsecrets: {A: {kind: external}}\n"))
	f.Add([]byte("compose_dir: c\nprofiles: {p: [a.yml]}\n"))
	f.Add([]byte("{}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Parse(data)
		if err != nil {
			return
		}
		if err := m.Validate(); err != nil {
			t.Fatalf("Parse accepted an invalid manifest: %v", err)
		}
		// A key the file leaves out is the default's (or, when it depends
		// on a written key, not the default's at all).
		inheritedAsDefault(t, data, m)
		for name := range m.Secrets {
			if strings.ContainsAny(name, `/\`) || name == ".." {
				t.Fatalf("secret name %q leaves the folder", name)
			}
		}
		for _, f := range m.AllComposeFiles() {
			if strings.HasPrefix(f, "../") || strings.HasPrefix(f, "/") || f == ".." {
				t.Fatalf("compose file %q leaves the repo", f)
			}
		}
	})
}
