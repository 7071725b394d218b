package checks

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/claire-de-binare/cdb-setup/internal/stack"

	"github.com/claire-de-binare/cdb-setup/internal/testenv"
)

func TestSecretFiles(t *testing.T) {
	dir := testenv.TempDir(t)
	if err := os.WriteFile(filepath.Join(dir, "REDIS_PASSWORD"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "SMTP_USER"), 0o755); err != nil {
		t.Fatal(err)
	}
	p := &Preflight{Secrets: []SecretFile{
		{Name: "REDIS_PASSWORD", Path: filepath.Join(dir, "REDIS_PASSWORD"), Services: []string{"cdb_redis"}},
		{Name: "POSTGRES_PASSWORD", Path: filepath.Join(dir, "POSTGRES_PASSWORD"), Services: []string{"cdb_postgres"}},
		{Name: "SMTP_USER", Path: filepath.Join(dir, "SMTP_USER"), Services: []string{"cdb_grafana"}},
	}}
	r := p.secretFiles(context.Background())
	if r.Status != Fail || !strings.Contains(r.Detail, "POSTGRES_PASSWORD is missing (mounted by cdb_postgres)") || !strings.Contains(r.Detail, "is a folder") {
		t.Fatalf("%+v", r)
	}
	if !strings.Contains(r.Fix, "cdb-setup secrets init") {
		t.Errorf("fix: %s", r.Fix)
	}
}

func TestPortsFreeNamesTheHolder(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	p := &Preflight{Engine: &Engine{}, Rerun: "cdb-setup up", Ports: []stack.Port{{Service: "cdb_redis", HostIP: "127.0.0.1", Port: port, Proto: "tcp"}}}
	r := p.portsFree(context.Background())
	if r.Status != Fail || !strings.Contains(r.Detail, fmt.Sprintf("127.0.0.1:%d (cdb_redis) is held by", port)) {
		t.Fatalf("%+v", r)
	}
	if runtime.GOOS == "linux" && !strings.Contains(r.Detail, fmt.Sprintf("(pid %d)", os.Getpid())) {
		t.Errorf("on Linux the holding process is named: %s", r.Detail)
	}
	ln.Close()
	if r := p.portsFree(context.Background()); r.Status != OK {
		t.Errorf("after close: %+v", r)
	}
}

func TestComposeDotEnv(t *testing.T) {
	dir := testenv.TempDir(t)
	compose := filepath.Join(dir, "dev.yml")
	if err := os.WriteFile(compose, []byte("services:\n  g:\n    environment:\n      GF_SECURITY_ADMIN_PASSWORD: ${GRAFANA_PASSWORD}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	p := &Preflight{ComposeDir: dir, ComposeFiles: []string{compose}, SecretNames: []string{"GRAFANA_PASSWORD"}, SecretsDir: "/s"}
	write := func(s string) {
		if err := os.WriteFile(filepath.Join(dir, ".env"), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("STACK_NAME=cdb\n# GRAFANA_PASSWORD=old\nexport GRAFANA_PASSWORD=\"Sup3rSecretValue\"\n")
	r := p.composeDotEnv(context.Background())
	if r.Status != Fail || !strings.Contains(r.Detail, "GRAFANA_PASSWORD") || strings.Contains(r.Detail+r.Fix, "Sup3rSecretValue") {
		t.Fatalf("%+v", r)
	}
	write("STACK_NAME=cdb\nREDIS_PASSWORD=abc\n")
	if r := p.composeDotEnv(context.Background()); r.Status != Warn {
		t.Errorf("an unused secret in .env is a warning: %+v", r)
	}
	write("STACK_NAME=cdb\nGRAFANA_PASSWORD=\n")
	if r := p.composeDotEnv(context.Background()); r.Status != OK {
		t.Errorf("an empty value is fine: %+v", r)
	}
	// A comment after the value is not part of it (compose's reading): the
	// hand-written parser took "'' # set in SECRETS_PATH" for a value.
	write("GRAFANA_PASSWORD='' # set in SECRETS_PATH\nPOSTGRES_PASSWORD=\"\" # too\n")
	if r := p.composeDotEnv(context.Background()); r.Status != OK {
		t.Errorf("an empty value with a comment is fine: %+v", r)
	}
	write("GRAFANA_PASSWORD=hunter2 # note\n")
	if r := p.composeDotEnv(context.Background()); r.Status != Fail || strings.Contains(r.Detail+r.Fix, "hunter2") {
		t.Errorf("GRAFANA_PASSWORD=hunter2 # note: %+v", r)
	}
	// ... but compose reads `NAME= # note` as the value "# note".
	write("GRAFANA_PASSWORD= # set in SECRETS_PATH\n")
	if r := p.composeDotEnv(context.Background()); r.Status != Fail {
		t.Errorf("GRAFANA_PASSWORD= # note: %+v", r)
	}
	// A file compose cannot parse: named by its line, never quoted.
	write("STACK_NAME=cdb\nGRAFANA_PASSWORD=\"Sup3rSecretValue\n")
	r = p.composeDotEnv(context.Background())
	if r.Status != Fail || !strings.Contains(r.Detail, "cannot be parsed (line 3: unterminated quoted value)") || strings.Contains(r.Detail+r.Fix, "Sup3rSecretValue") {
		t.Errorf("unterminated quote: %+v", r)
	}
}

// FuzzComposeDotEnv runs the .env check on arbitrary files around a secret
// line: it never panics, and whatever the parser makes of the file
// (a value, a key, an error quoting the line), the secret value never
// reaches the result.
func FuzzComposeDotEnv(f *testing.F) {
	for _, s := range [][2]string{
		{"STACK_NAME=cdb", ""},
		{"A=\"unterminated", ""},
		{"", "B='x' # c"},
		{"export C=${GRAFANA_PASSWORD}", "D=$C"},
		{"bad key=1", "E=\"a\\\"b\""},
		{"\ufeffF=1", "G"},
	} {
		f.Add(s[0], s[1])
	}
	const value = "Vq7ZpLx2Kw9RmT4"
	dir := testenv.TempDir(f)
	compose := filepath.Join(dir, "dev.yml")
	if err := os.WriteFile(compose, []byte("x: ${GRAFANA_PASSWORD}\n"), 0o644); err != nil {
		f.Fatal(err)
	}
	p := &Preflight{ComposeDir: dir, ComposeFiles: []string{compose}, SecretNames: []string{"GRAFANA_PASSWORD"}, SecretsDir: "/s"}
	f.Fuzz(func(t *testing.T, before, after string) {
		if strings.Contains(before+after, value[:6]) {
			t.Skip("the input names the value itself")
		}
		body := before + "\nGRAFANA_PASSWORD=" + value + "\n" + after
		if err := os.WriteFile(filepath.Join(dir, ".env"), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		r := p.composeDotEnv(context.Background())
		if strings.Contains(r.Detail+r.Fix, value[:6]) {
			t.Fatalf("the value leaked: %+v", r)
		}
		if r.Status != OK && r.Status != Warn && r.Status != Fail {
			t.Fatalf("status %v", r.Status)
		}
	})
}
