package checks

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/claire-de-binare/cdb-setup/internal/platform"
	"github.com/claire-de-binare/cdb-setup/internal/secrets"
	"github.com/claire-de-binare/cdb-setup/internal/step"
	"github.com/claire-de-binare/cdb-setup/internal/testenv"
	"github.com/claire-de-binare/cdb-setup/internal/volpass"
)

// The fix volumes.secrets names, `keychain pull --force`, clears the check:
// the restored value is the one whose fingerprint was recorded when the
// volume was initialised. Uses the real keychain
// (scripts/with-secret-service.sh on Linux).
func TestFingerprintMatchesAfterKeychainPull(t *testing.T) {
	testenv.NeedSecretService(t)
	ctx := context.Background()
	k := &secrets.Keychain{}
	_, err := k.Get(ctx, "cdb-setup:test:probe", "/probe")
	testenv.Need(t, secrets.IsKeychainKind(err, secrets.KeychainNotFound), fmt.Sprintf("a usable OS keychain (probe: %v)", err))

	dir := filepath.Join(testenv.TempDir(t), "secrets")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	s := pgSecret(dir)
	pw := func() []byte {
		b := make([]byte, 16)
		_, _ = rand.Read(b)
		return []byte(hex.EncodeToString(b))
	}
	old := pw()
	if err := os.WriteFile(s.Path, old, 0o600); err != nil {
		t.Fatal(err)
	}
	book, err := volpass.Open(testenv.TempDir(t))
	if err != nil {
		t.Fatal(err)
	}
	// `up` initialised the volume with the file's value.
	must(t, book.Record(volpass.Entry{EngineID: "engine", Volume: "cdb_postgres_data", Secret: s.Name, How: "initialised by cdb-setup up"}, old))
	verdict := func() volpass.Verdict {
		b, err := os.ReadFile(s.Path)
		if err != nil {
			t.Fatal(err)
		}
		v, _ := book.Compare("engine", "cdb_postgres_data", b)
		return v
	}

	m := &secrets.KeychainMirror{Keychain: k, Project: "cdbtest", Dir: dir, Service: secrets.KeychainService("cdbtest", dir), Names: []string{s.Name}}
	t.Cleanup(func() {
		_ = k.Purge(context.Background(), platform.Record{Kind: secrets.KeychainRecordKind, Target: m.Service,
			Data: map[string]string{"dir": dir, "names": s.Name}})
	})
	run := func(steps []step.Step) {
		t.Helper()
		rep, err := step.Run(ctx, steps, step.Options{KeepGoing: true})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rep.Results {
			if r.Status == step.StatusFailed {
				t.Fatalf("%s: %q", r.Step, r.Detail)
			}
		}
	}
	run(secrets.KeychainPushSteps(m))

	// A new password (say `secrets init --force`): the volume holds another.
	if err := os.WriteFile(s.Path, pw(), 0o600); err != nil {
		t.Fatal(err)
	}
	if v := verdict(); v != volpass.Mismatch {
		t.Fatalf("after changing the file: %s", v)
	}

	run(secrets.KeychainPullSteps(m, true))
	if got, _ := os.ReadFile(s.Path); string(got) != string(old) {
		t.Fatal("pull --force did not restore the mirrored value")
	}
	if v := verdict(); v != volpass.Match {
		t.Fatalf("after keychain pull --force: %s", v)
	}
}
