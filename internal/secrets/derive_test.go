package secrets

import (
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/claire-de-binare/cdb-setup/internal/manifest"
)

func TestDeriveDSN(t *testing.T) {
	dir := privateDir(t)
	pw := "a/b+c@d:e%f"
	os.WriteFile(filepath.Join(dir, "POSTGRES_PASSWORD"), []byte(pw), 0o600)
	for _, tls := range []bool{false, true} {
		got, err := Derive("POSTGRES_PASSWORD_DSN", manifest.DSNTemplate, DeriveInput{Dir: dir, TLS: tls, Env: map[string]string{}})
		if err != nil {
			t.Fatal(err)
		}
		u, err := url.Parse(string(got))
		if err != nil {
			t.Fatalf("DSN does not parse: %v", err)
		}
		p, _ := u.User.Password()
		if p != pw || u.User.Username() != "claire_user" || u.Host != "cdb_postgres:5432" || u.Path != "/claire_de_binare" {
			t.Fatal("DSN parts differ from the inputs")
		}
		want := map[bool]string{false: "disable", true: "require"}[tls]
		if u.Query().Get("sslmode") != want {
			t.Fatalf("sslmode %q, want %q", u.Query().Get("sslmode"), want)
		}
	}
	got, _ := Derive("D", manifest.DSNTemplate, DeriveInput{Dir: dir, Env: map[string]string{"POSTGRES_USER": "bob@x"}})
	u, _ := url.Parse(string(got))
	if u.User.Username() != "bob@x" {
		t.Fatal("POSTGRES_USER not used")
	}
	// Values override files.
	got, _ = Derive("D", manifest.DSNTemplate, DeriveInput{Dir: dir, Values: map[string][]byte{"POSTGRES_PASSWORD": []byte("other123")}})
	u, _ = url.Parse(string(got))
	if p, _ := u.User.Password(); p != "other123" {
		t.Fatal("Values did not override the file")
	}
}

func TestDeriveMissingInput(t *testing.T) {
	dir := privateDir(t)
	if _, err := Derive("D", manifest.DSNTemplate, DeriveInput{Dir: dir}); err == nil {
		t.Fatal("missing POSTGRES_PASSWORD accepted")
	}
	os.WriteFile(filepath.Join(dir, "POSTGRES_PASSWORD"), []byte("pw\r\n"), 0o600)
	if _, err := Derive("D", manifest.DSNTemplate, DeriveInput{Dir: dir}); err == nil {
		t.Fatal("malformed POSTGRES_PASSWORD accepted")
	}
}

func TestDependencies(t *testing.T) {
	got, err := Dependencies(manifest.DSNTemplate)
	if err != nil || !reflect.DeepEqual(got, []string{"POSTGRES_PASSWORD"}) {
		t.Fatalf("%v %v", got, err)
	}
}
