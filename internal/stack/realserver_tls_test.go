package stack

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/claire-de-binare/cdb-setup/internal/testenv/realstack"
	"github.com/claire-de-binare/cdb-setup/internal/tlscert"
)

// What tls.yml does on a native Linux engine without cdb-setup's overlay:
// the real PostgreSQL 15 refuses a bind-mounted key owned by the host user,
// and the diagnosis names that cause with postgres' own log line.
func TestDiagnosePostgresRefusesBindMountedKey(t *testing.T) {
	st := realstack.New(t, realstack.Options{Prefix: "cdbttlskey"})
	dir := tlscert.Dir(st.SecretsDir)
	if _, err := tlscert.Init(dir, []tlscert.Leaf{{Name: "postgres", DNS: []string{realstack.Postgres}}}, time.Now()); err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() == 0 {
		// As a developer's files are: owned by an ordinary uid, 0600.
		for _, f := range []string{"postgres.key", "postgres.crt"} {
			if err := os.Chown(filepath.Join(dir, f), 1000, 1000); err != nil {
				t.Fatal(err)
			}
		}
	}
	override := filepath.Join(st.Repo, "compose", "key.yml")
	if err := os.WriteFile(override, []byte(`services:
  cdb_postgres:
    command: ["postgres", "-c", "ssl=on", "-c", "ssl_cert_file=/tls/postgres.crt", "-c", "ssl_key_file=/tls/postgres.key"]
    volumes:
      - `+filepath.Join(dir, "postgres.crt")+`:/tls/postgres.crt:ro
      - `+filepath.Join(dir, "postgres.key")+`:/tls/postgres.key:ro
`), 0o644); err != nil {
		t.Fatal(err)
	}
	st.ComposeFiles = append(st.ComposeFiles, override)
	id := upService(t, st, realstack.Postgres)
	deadline := time.Now().Add(3 * time.Minute)
	for {
		logs, _ := exec.Command("docker", "logs", id).CombinedOutput()
		if strings.Contains(string(logs), "private key file") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("postgres never complained about its key:\n%s", logs)
		}
		time.Sleep(500 * time.Millisecond)
	}
	d := Diagnose(context.Background(), DiagnoseInput{API: engineClient(t), Project: st.Project, Rerun: "cdb-setup up"},
		Service{Name: realstack.Postgres, ContainerID: id, Outcome: Failed, Reason: ReasonRestartLoop})
	if d.Cause != CauseTLSKeyRefused || !strings.Contains(d.Explanation, `private key file \"/tls/postgres.key\" must be owned by the database user or root`) {
		t.Errorf("cause %q: %s", d.Cause, d.Explanation)
	}
	if d.Fix != "start it with cdb-setup's TLS overlay: cdb-setup up --overlay tls" {
		t.Errorf("fix %q", d.Fix)
	}
}
