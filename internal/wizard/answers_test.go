package wizard

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/claire-de-binare/cdb-setup/internal/platform"
)

// absDir is an absolute folder on this OS ("/s" is not absolute on Windows).
var absDir = filepath.Join(os.TempDir(), "s")

func TestParseYAML(t *testing.T) {
	a, err := ParseYAML([]byte("\xef\xbb\xbfsecrets_path: '" + absDir + "'\nprofile: dev\noverlays: []\npersist: [shells, compose-env]\nhook: false\nstart: true\nexternal:\n  SMTP_USER: me@example.org\n"))
	if err != nil {
		t.Fatal(err)
	}
	if a.SecretsPath != absDir || a.Profile != "dev" || a.Overlays == nil || len(a.Overlays) != 0 {
		t.Errorf("got %+v", a)
	}
	if !reflect.DeepEqual(a.Persist, []string{"shells", "compose-env"}) || *a.Hook || !*a.Start || a.Keychain != nil {
		t.Errorf("got %+v", a)
	}
	if a.External["SMTP_USER"] != "me@example.org" {
		t.Errorf("external: %v", a.External)
	}
}

func TestParseYAMLErrors(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"persits: [shells]\n", "persits"},
		{"persist: [everywhere]\n", `"everywhere" is not one of`},
		{"secrets_path: relative/dir\n", "absolute"},
		{"external:\n  ../x: v\n", "not a secret file name"},
		{"hook: maybe\n", "line 1"},
	} {
		_, err := ParseYAML([]byte(tc.in))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: err %v, want %q", tc.in, err, tc.want)
		}
	}
}

// A type error in external: must not repeat the value the user typed.
func TestParseYAMLErrorNeverEchoesSecret(t *testing.T) {
	_, err := ParseYAML([]byte("external:\n  SMTP_PASSWORD: [Sup3rS3cretValue]\n"))
	if err == nil {
		t.Fatal("want error")
	}
	if strings.Contains(err.Error(), "Sup3rS3cretValue") {
		t.Fatalf("error repeats the secret: %v", err)
	}
}

func TestMissingListsEverything(t *testing.T) {
	o := Offer{Profiles: []string{"dev", "prod"}, Keychain: true, Persist: true, PersistTargets: []string{"shells"}, Hook: true, Start: true,
		External: []ExternalSecret{{Name: "SMTP_USER", Optional: true}, {Name: "API_TOKEN", Prompt: "token"}}}
	m := Answers{}.Missing(o)
	var qs []string
	for _, x := range m {
		qs = append(qs, x.Question)
	}
	got := strings.Join(qs, "|")
	for _, want := range []string{"secrets folder", "compose profile", "secret API_TOKEN", "keychain", "persist SECRETS_PATH", "hook", "start the stack"} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in %q", want, got)
		}
	}
	if strings.Contains(got, "SMTP_USER") {
		t.Errorf("optional secret listed as missing: %q", got)
	}
	// Areas this version cannot do are not asked for.
	if m := (Answers{SecretsPath: "/s", Profile: "dev"}).Missing(Offer{Profiles: []string{"dev"}}); len(m) != 0 {
		t.Errorf("want nothing missing, got %v", m)
	}
	// Explicit "no" and "none" are answers.
	a := Answers{SecretsPath: "/s", Profile: "dev", Keychain: Bool(false), Persist: []string{}, Hook: Bool(false), Start: Bool(false), External: map[string]string{"API_TOKEN": "x"}}
	if m := a.Missing(o); len(m) != 0 {
		t.Errorf("want nothing missing, got %v", m)
	}
}

func TestFromEnvAndMergeOrder(t *testing.T) {
	env := platform.MapEnvironment{"CDB_SETUP_PROFILE": "prod", "CDB_SETUP_OVERLAYS": "logging, tls", "CDB_SETUP_PERSIST": "none", "CDB_SETUP_HOOK": "no", "CDB_SETUP_START": "1"}
	e, err := FromEnv(env)
	if err != nil {
		t.Fatal(err)
	}
	if e.Profile != "prod" || !reflect.DeepEqual(e.Overlays, []string{"logging", "tls"}) || e.Persist == nil || len(e.Persist) != 0 || *e.Hook || !*e.Start {
		t.Fatalf("got %+v", e)
	}
	flags := Answers{Profile: "dev"}
	file := Answers{SecretsPath: "/f", Profile: "x", Keychain: Bool(true), External: map[string]string{"A": "1"}}
	got := flags.Merge(e).Merge(file)
	if got.Profile != "dev" || got.SecretsPath != "/f" || !*got.Keychain || got.External["A"] != "1" {
		t.Errorf("merge: %+v", got)
	}
	if _, err := FromEnv(platform.MapEnvironment{"CDB_SETUP_HOOK": "perhaps"}); err == nil {
		t.Error("want error for CDB_SETUP_HOOK=perhaps")
	}
}

func TestSaveYAMLDropsSecrets(t *testing.T) {
	a := Answers{SecretsPath: absDir, External: map[string]string{"SMTP_PASSWORD": "Sup3rS3cretValue"}}
	b, err := a.SaveYAML()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "Sup3rS3cretValue") || strings.Contains(string(b), "external") {
		t.Fatalf("saved answers hold secrets:\n%s", b)
	}
	back, err := ParseYAML(b)
	if err != nil || back.SecretsPath != absDir {
		t.Fatalf("round trip: %+v %v", back, err)
	}
}

func TestDefaults(t *testing.T) {
	f := platform.Facts{OS: "windows", Documents: `C:\Users\u\Documents`}
	d := Defaults(f, "dev", Offer{Keychain: true, Persist: true, Hook: true, Start: false})
	if !d.Wants(PersistShells) || !d.Wants(PersistWSL) || !*d.Keychain || !*d.Hook || d.Start != nil || d.Profile != "dev" {
		t.Errorf("%+v", d)
	}
	if m := Defaults(f, "dev", Offer{Keychain: true, Persist: true, Hook: true, Start: true}).Missing(Offer{Keychain: true, Persist: true, Hook: true, Start: true, Profiles: []string{"dev"}}); len(m) != 0 {
		t.Errorf("defaults leave %v missing", m)
	}
}

// "none" survives a save and a load: it is an answer, not a missing one.
func TestNoneRoundTrip(t *testing.T) {
	b, err := (Answers{SecretsPath: absDir, Persist: []string{}, Overlays: []string{}}).SaveYAML()
	if err != nil {
		t.Fatal(err)
	}
	a, err := ParseYAML(b)
	if err != nil || a.Persist == nil || len(a.Persist) != 0 || a.Overlays == nil || len(a.Overlays) != 0 {
		t.Fatalf("%+v %v\n%s", a, err, b)
	}
	if m := a.Missing(Offer{Persist: true, PersistTargets: []string{PersistShells}}); len(m) != 0 {
		t.Errorf("missing after reload: %v", m)
	}
}

func TestExpandHome(t *testing.T) {
	if got := (Answers{SecretsPath: "~/s/.cdb"}).ExpandHome("/h").SecretsPath; got != filepath.Join("/h", "s", ".cdb") {
		t.Errorf("got %q", got)
	}
}

func FuzzParseYAML(f *testing.F) {
	f.Add([]byte("secrets_path: /s\nprofile: dev\npersist: [shells]\nhook: true\n"))
	f.Add([]byte("external:\n  SMTP_PASSWORD: x\n"))
	f.Add([]byte("overlays: []\n"))
	f.Add([]byte("\xef\xbb\xbf"))
	f.Add([]byte("- a\n- b\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := ParseYAML(b)
		if err != nil {
			return
		}
		if err := a.Validate(); err != nil {
			t.Fatalf("parsed answers fail validation: %v", err)
		}
		out, err := a.SaveYAML()
		if err != nil {
			t.Fatal(err)
		}
		back, err := ParseYAML(out)
		if err != nil {
			t.Fatalf("saved answers do not parse back: %v\n%s", err, out)
		}
		if back.SecretsPath != a.SecretsPath || back.Profile != a.Profile || len(back.Persist) != len(a.Persist) || back.External != nil {
			t.Fatalf("round trip changed answers: %+v vs %+v", back, a)
		}
	})
}
