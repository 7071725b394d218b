package manifest

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// TestPrintedDefaultParsesToDefault: what `cdb-setup manifest print`
// writes (Marshal of Default) reads back as exactly the default, so a user
// can start from it.
func TestPrintedDefaultParsesToDefault(t *testing.T) {
	b, err := Default().Marshal()
	if err != nil {
		t.Fatal(err)
	}
	m, err := Parse(b)
	if err != nil {
		t.Fatalf("the printed default does not parse: %v\n%s", err, b)
	}
	if !reflect.DeepEqual(m, Default()) {
		t.Fatalf("the printed default parses to something else:\n%+v\nwant\n%+v", m, Default())
	}
	// Every key of the format is written, so the file documents them all.
	for _, k := range Keys {
		if !strings.Contains(string(b), "\n"+k+":") && !strings.HasPrefix(string(b), k+":") {
			t.Errorf("the printed default lacks %s:", k)
		}
	}
}

// TestPartialManifestOverridesOnlyItsKeys: issue 14. A manifest with only
// targets: is the CDB default with those targets; a key written replaces
// the default's value whole (overlays: {} removes them); a key left out
// that depends on a written one is not taken from the default (another
// compose folder gets no CDB overlay, own secrets get no CDB login check).
func TestPartialManifestOverridesOnlyItsKeys(t *testing.T) {
	d := Default()
	m, err := Parse([]byte("targets: [cdb_redis, cdb_postgres]\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := Default()
	want.Targets = []string{"cdb_redis", "cdb_postgres"}
	if !reflect.DeepEqual(m, want) {
		t.Errorf("only targets:\n got %+v\nwant %+v", m, want)
	}

	m, err = Parse([]byte("overlays: {}\nproject: mine\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Overlays) != 0 || m.Project != "mine" || m.TLS.Dir != "" || !reflect.DeepEqual(m.Profiles, d.Profiles) || !reflect.DeepEqual(m.Secrets, d.Secrets) {
		t.Errorf("overlays: {} + project: got %+v", m)
	}

	m, err = Parse([]byte("compose_dir: compose\nprofiles: {base: [base.yml]}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Overlays) != 0 || m.TLS.Dir != "" || m.DefaultProfile != "base" || !reflect.DeepEqual(m.Targets, d.Targets) {
		t.Errorf("own compose folder: overlays %v, tls %+v, default profile %q, targets %v", m.Overlays, m.TLS, m.DefaultProfile, m.Targets)
	}
	// Own compose_dir without profiles: the error says profiles are needed.
	if _, err := Parse([]byte("compose_dir: compose\n")); err == nil || !strings.Contains(err.Error(), "profiles: at least one profile") {
		t.Errorf("compose_dir alone: %v", err)
	}

	m, err = Parse([]byte("secrets: {REDIS_PASSWORD: {kind: generated}}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Checks) != 0 || len(m.Secrets) != 1 || m.Secrets["REDIS_PASSWORD"].Length != 32 {
		t.Errorf("own secrets: checks %v, secrets %v", m.Checks, m.Secrets)
	}

	// An empty document (only a comment) is still refused; "{}" is the
	// default written down.
	if _, err := Parse([]byte("# nothing\n")); err == nil {
		t.Error("a manifest of only comments was accepted")
	}
	if m, err := Parse([]byte("{}\n")); err != nil || !reflect.DeepEqual(m, Default()) {
		t.Errorf("{}: %v", err)
	}
}

// TestDemoManifestIsComplete: the demo writes every key a stack of its own
// needs; nothing CDB-specific leaks in.
func TestDemoManifestIsComplete(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "examples", "demo", FileName))
	if err != nil {
		t.Fatal(err)
	}
	m, err := Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	if got := sortedKeys(m.Overlays); !reflect.DeepEqual(got, []string{"strict-health"}) {
		t.Errorf("demo overlays = %v, want only its own strict-health", got)
	}
	if m.TLS.Dir != "" || len(m.Secrets) != 3 || len(m.Checks) != 3 {
		t.Errorf("demo: tls %+v, %d secrets, %d checks", m.TLS, len(m.Secrets), len(m.Checks))
	}
}

// inheritedAsDefault is the fuzz property: every key Inherits says comes
// from the default has the default's value.
func inheritedAsDefault(t *testing.T, data []byte, m *Manifest) {
	var written map[string]any
	if yaml.Unmarshal(data, &written) != nil {
		return
	}
	got, want := fieldsOf(t, m), fieldsOf(t, Default())
	for _, k := range Keys {
		if Inherits(k, written) && !reflect.DeepEqual(got[k], want[k]) {
			t.Fatalf("%s was left out but is %v, not the default's %v", k, got[k], want[k])
		}
	}
}

func fieldsOf(t *testing.T, m *Manifest) map[string]any {
	b, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	if err := yaml.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}
