package checks

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/claire-de-binare/cdb-setup/internal/platform"
	"github.com/claire-de-binare/cdb-setup/internal/secrets"
	"github.com/claire-de-binare/cdb-setup/internal/step"
	"github.com/claire-de-binare/cdb-setup/internal/testenv"
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
	cleanKeychainAfter(t, kc, svc, names)
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

// cleanKeychainAfter removes what the test mirrors into the real keychain
// through the product's own API (Keychain.Purge, as uninstall --purge does)
// on every OS, not a Linux-only tool, and checks the keychain is as before:
// none of names exists under service before the test, and none after.
func cleanKeychainAfter(t *testing.T, kc *secrets.Keychain, service string, names []string) {
	t.Helper()
	ctx := context.Background()
	for _, n := range names {
		if _, err := kc.Get(ctx, service, n); !secrets.IsKeychainKind(err, secrets.KeychainNotFound) {
			t.Fatalf("the keychain already holds %s %s before the test (%v)", service, n, err)
		}
	}
	t.Cleanup(func() {
		rec := platform.Record{Kind: secrets.KeychainRecordKind, Target: service, Data: map[string]string{"names": strings.Join(names, "\n")}}
		if err := kc.Purge(ctx, rec); err != nil {
			t.Errorf("clean up the keychain: %v", err)
		}
		for _, n := range names {
			if _, err := kc.Get(ctx, service, n); !secrets.IsKeychainKind(err, secrets.KeychainNotFound) {
				t.Errorf("the test left %s %s in the keychain (%v)", service, n, err)
			}
		}
	})
}
