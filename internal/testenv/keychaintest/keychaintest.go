// Package keychaintest is for tests only: it leaves the real OS keychain as
// a test found it (its own package because internal/testenv must not import
// internal/secrets, whose tests import testenv).
package keychaintest

import (
	"context"
	"strings"
	"testing"

	"github.com/claire-de-binare/cdb-setup/internal/platform"
	"github.com/claire-de-binare/cdb-setup/internal/secrets"
)

// CleanAfter removes what the test mirrors into the real keychain through
// the product's own API (Keychain.Purge, as uninstall --purge does) on every
// OS, not a Linux-only tool, and checks the keychain is as before: none of
// names exists under service before the test, and none after.
func CleanAfter(t *testing.T, kc *secrets.Keychain, service string, names []string) {
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
