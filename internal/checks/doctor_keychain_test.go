package checks

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/claire-de-binare/cdb-setup/internal/secrets"
	"github.com/claire-de-binare/cdb-setup/internal/step"
	"github.com/claire-de-binare/cdb-setup/internal/testenv"
	"github.com/claire-de-binare/cdb-setup/internal/testenv/keychaintest"
)

// On the real Secret Service: mirror, then change a file — doctor says the
// copy is stale and names the push.
func TestKeychainCheckOnRealKeychain(t *testing.T) {
	testenv.NeedSecretService(t)
	f := newFixture(t)
	kc := &secrets.Keychain{}
	_, err := kc.Get(context.Background(), "cdb-setup:test:probe", "/probe")
	testenv.Need(t, secrets.IsKeychainKind(err, secrets.KeychainNotFound), "a usable OS keychain")
	f.e.Keychain = kc
	svc := secrets.KeychainService(f.e.Project, f.secrets)
	names := []string{secrets.KeychainIndexUser}
	for n := range f.e.Manifest.Secrets {
		names = append(names, n)
	}
	keychaintest.CleanAfter(t, kc, svc, names)
	want(t, run1(t, keychainCheck(f.e, kc)), OK, "not mirrored", "")

	cat, err := secrets.Discover(context.Background(), secrets.DiscoverOptions{Repo: f.e.Repo, Manifest: f.e.Manifest, Dir: f.secrets, Env: f.e.Env})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := step.Run(context.Background(), secrets.KeychainPushSteps(secrets.NewKeychainMirror(kc, f.e.Project, cat)), step.Options{KeepGoing: true})
	if err != nil || rep.Failed() {
		t.Fatalf("push: %v %+v", err, rep.Results)
	}
	want(t, run1(t, keychainCheck(f.e, kc)), OK, "in sync", "")

	os.WriteFile(filepath.Join(f.secrets, "REDIS_PASSWORD"), []byte(strings.Repeat("z", 32)), 0o644)
	want(t, run1(t, keychainCheck(f.e, kc)), Warn, "older than the files for REDIS_PASSWORD", "cdb-setup keychain push")
}
