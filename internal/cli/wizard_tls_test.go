package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/claire-de-binare/cdb-setup/internal/platform"
	"github.com/claire-de-binare/cdb-setup/internal/setup"
	"github.com/claire-de-binare/cdb-setup/internal/step"
	"github.com/claire-de-binare/cdb-setup/internal/testenv"
	"github.com/claire-de-binare/cdb-setup/internal/tlscert"
	"github.com/claire-de-binare/cdb-setup/internal/wizard"
	"github.com/claire-de-binare/cdb-setup/internal/workspace"
)

// Choosing the tls overlay in the wizard adds `tls init` before the start;
// its step makes the certificates for the stack's services, and a second
// run finds them valid ("done", nothing changed).
func TestWizardOffersTLSInitWithTheTLSOverlay(t *testing.T) {
	repo, secretsDir := testenv.TempDir(t), testenv.TempDir(t)
	for p, body := range map[string]string{
		"cdb-setup.yaml": "version: 1\nproject: cdbtwiztls\ncompose_dir: compose\nprofiles:\n  dev: [base.yml]\noverlays:\n  tls: [tls.yml]\ntls: {dir: ../.cdb_local/tls, files: [ca.crt]}\ntargets: [cdb_redis]\n" +
			"secrets:\n  REDIS_PASSWORD: {kind: generated}\nchecks:\n  - {kind: redis-auth, service: cdb_redis, secret: REDIS_PASSWORD, address: \"127.0.0.1:6379\"}\n",
		"compose/base.yml": "services:\n  cdb_redis:\n    image: redis\n    container_name: cache\n    secrets: [redis_password]\nsecrets:\n  redis_password:\n    file: ${SECRETS_PATH}/REDIS_PASSWORD\n",
		"compose/tls.yml":  "services:\n  cdb_redis:\n    volumes: [\"../../.cdb_local/tls:/tls:ro\"]\n",
	} {
		must(t, os.MkdirAll(filepath.Dir(filepath.Join(repo, p)), 0o755))
		must(t, os.WriteFile(filepath.Join(repo, p), []byte(body), 0o644))
	}
	env := platform.EnvironmentFrom(os.Environ())
	delete(env, "SECRETS_PATH")
	env["CDB_SETUP_STATE_DIR"] = testenv.TempDir(t)
	ctx := context.Background()
	ws, err := workspace.Resolve(ctx, workspace.Options{Flags: workspace.Flags{Repo: repo, SecretsPath: secretsDir}, Env: env})
	must(t, err)
	var errb bytes.Buffer
	f := &Factory{IO: &IOStreams{In: strings.NewReader(""), Out: &bytes.Buffer{}, ErrOut: &errb}, Global: &GlobalOptions{}, Env: env, Context: ctx}
	ids := func(overlays []string) []string {
		in := setup.Input{Answers: wizard.Answers{SecretsPath: secretsDir, Profile: "dev", Overlays: overlays}, Workspace: ws, Env: env}
		steps, err := upBuilder(f)(ctx, in)
		must(t, err)
		var out []string
		for _, s := range steps {
			out = append(out, s.ID())
		}
		return out
	}
	if got := strings.Join(ids(nil), ","); got != "stack.up" {
		t.Errorf("without tls: %s", got)
	}
	if got := strings.Join(ids([]string{"tls"}), ","); got != "tls.init,stack.up" {
		t.Fatalf("with tls: %s", got)
	}
	in := setup.Input{Answers: wizard.Answers{SecretsPath: secretsDir, Profile: "dev", Overlays: []string{"tls"}}, Workspace: ws, Env: env}
	steps, err := upBuilder(f)(ctx, in)
	must(t, err)
	for i, want := range []step.Status{step.StatusChanged, step.StatusDone} {
		r, err := steps[0].Apply(ctx)
		if err != nil || r.Status != want {
			t.Fatalf("run %d: %v %+v\n%s", i+1, err, r, errb.String())
		}
	}
	if !strings.Contains(errb.String(), "redis.crt is valid for 127.0.0.1, ::1, cache, cdb_redis, localhost") {
		t.Errorf("output:\n%s", errb.String())
	}
	if r := tlscert.Check(tlscert.Dir(secretsDir), []tlscert.Leaf{{Name: "redis", DNS: []string{"cdb_redis", "cache"}}}, time.Now()); len(r.Findings) != 0 {
		t.Errorf("%+v", r.Findings)
	}
}
