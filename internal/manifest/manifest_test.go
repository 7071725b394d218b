package manifest

import (
	"github.com/claire-de-binare/cdb-setup/internal/testenv"

	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestDefaultIsValidAndDescribesCDB(t *testing.T) {
	m := Default()
	if err := m.Validate(); err != nil {
		t.Fatalf("Default() is invalid: %v", err)
	}
	files, err := m.ComposeFiles(Selection{})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"infrastructure/compose/base.yml", "infrastructure/compose/dev.yml"}
	if !reflect.DeepEqual(files, want) {
		t.Errorf("default profile files = %v, want %v", files, want)
	}
	if len(m.Targets) != 10 {
		t.Errorf("targets = %d, want the 10 stack_up.ps1 services", len(m.Targets))
	}
	generated := 0
	for _, s := range m.Secrets {
		if s.Kind == KindGenerated {
			generated++
			if s.Length != 32 || s.Alphabet != "alnum" {
				t.Errorf("generated secret policy %+v, want 32 alnum", s)
			}
		}
	}
	if generated != 3 || len(m.Secrets) != 10 {
		t.Errorf("secrets: %d generated of %d, want 3 of 10", generated, len(m.Secrets))
	}
}

func TestComposeFilesOverlaysInOrderWithoutDuplicates(t *testing.T) {
	m := Default()
	got, err := m.ComposeFiles(Selection{Profile: "prod", Overlays: []string{"tls", "strict-health", "tls"}})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"infrastructure/compose/base.yml",
		"infrastructure/compose/tls.yml",
		"infrastructure/compose/healthchecks-strict.yml",
		"infrastructure/compose/healthchecks-mounts.yml",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v\nwant %v", got, want)
	}
}

func TestComposeFilesUnknownNamesSayWhatExists(t *testing.T) {
	m := Default()
	_, err := m.ComposeFiles(Selection{Profile: "staging"})
	if err == nil || !strings.Contains(err.Error(), `unknown profile "staging"`) || !strings.Contains(err.Error(), "dev, prod") {
		t.Errorf("unknown profile error = %v", err)
	}
	_, err = m.ComposeFiles(Selection{Overlays: []string{"metrics"}})
	if err == nil || !strings.Contains(err.Error(), `unknown overlay "metrics"`) || !strings.Contains(err.Error(), "logging") {
		t.Errorf("unknown overlay error = %v", err)
	}
}

func TestLoadFallsBackToDefault(t *testing.T) {
	m, src, err := Load(testenv.TempDir(t))
	if err != nil {
		t.Fatal(err)
	}
	if src != "built-in CDB default" || m.Project != "cdb" {
		t.Errorf("Load of a repo without manifest = %q, %q", src, m.Project)
	}
}

func TestLoadRoundTripsMarshal(t *testing.T) {
	dir := testenv.TempDir(t)
	b, err := Default().Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, FileName), b, 0o644); err != nil {
		t.Fatal(err)
	}
	m, src, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if src != filepath.Join(dir, FileName) {
		t.Errorf("source = %q", src)
	}
	if !reflect.DeepEqual(m, Default()) {
		t.Errorf("manifest did not round-trip through YAML")
	}
}

func TestParseRejects(t *testing.T) {
	base := "version: 1\nproject: demo\ncompose_dir: compose\nprofiles:\n  dev: [a.yml]\n"
	cases := []struct {
		name, yaml, want string
	}{
		{"empty", "", "empty"},
		{"not yaml", "profiles: [", "invalid YAML"},
		{"unknown key", base + "targetz: [x]\n", "field targetz not found"},
		{"bad version", strings.Replace(base, "version: 1", "version: 2", 1), "version 2 is not supported"},
		{"bad project", strings.Replace(base, "demo", "Demo Stack", 1), "compose project name"},
		{"escaping compose dir", strings.Replace(base, "compose_dir: compose", "compose_dir: ../x", 1), "inside the repository"},
		{"absolute file", strings.Replace(base, "[a.yml]", "[/etc/a.yml]", 1), "relative to the repository"},
		{"backslash", strings.Replace(base, "[a.yml]", `['a\b.yml']`, 1), "forward slashes"},
		{"no profiles", "version: 1\nproject: demo\ncompose_dir: c\n", "at least one profile"},
		{"bad default profile", base + "default_profile: prod\n", `default_profile "prod"`},
		{"bad kind", base + "secrets:\n  X:\n    kind: magic\n", `kind "magic"`},
		{"short secret", base + "secrets:\n  X:\n    kind: generated\n    length: 8\n", "between 16 and 1024"},
		{"bad alphabet", base + "secrets:\n  X:\n    kind: generated\n    alphabet: emoji\n", `alphabet "emoji"`},
		{"derived without template", base + "secrets:\n  X:\n    kind: derived\n", "needs a template"},
		{"bad secret name", base + "secrets:\n  ../X:\n    kind: external\n", "a file name"},
		{"bad check", base + "checks:\n  - kind: ping\n", `kind "ping"`},
		{"check of unknown secret", base + "checks:\n  - kind: redis-auth\n    secret: NOPE\n", `secret "NOPE"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse([]byte(c.yaml))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("Parse error = %v, want it to contain %q", err, c.want)
			}
		})
	}
}

func TestParseAcceptsBOMAndDefaultsGeneratedPolicy(t *testing.T) {
	y := "\xef\xbb\xbfversion: 1\nproject: demo\ncompose_dir: compose\nprofiles:\n  dev: [a.yml]\nsecrets:\n  TOKEN:\n    kind: generated\n"
	m, err := Parse([]byte(y))
	if err != nil {
		t.Fatal(err)
	}
	if s := m.Secrets["TOKEN"]; s.Length != 32 || s.Alphabet != "alnum" {
		t.Errorf("defaults not applied: %+v", s)
	}
	if m.DefaultProfile != "dev" {
		t.Errorf("default profile = %q", m.DefaultProfile)
	}
}
