package checks

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/claire-de-binare/cdb-setup/internal/platform"
	"github.com/claire-de-binare/cdb-setup/internal/secrets"
	"github.com/claire-de-binare/cdb-setup/internal/step"
	"github.com/claire-de-binare/cdb-setup/internal/testenv"
)

// The fix volumes.secrets names, `keychain pull --force`, clears the check:
// the restored file gets back the modification time it had when mirrored,
// so the volume initialised with that value is not older than the file.
// Uses the real keychain (scripts/with-secret-service.sh on Linux).
func TestVolumeVerdictPassesAfterKeychainPull(t *testing.T) {
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
	// The password was written, then the volume was initialised with it
	// (the Engine reports creation in whole seconds).
	written := time.Date(2024, 3, 1, 12, 0, 0, 123456789, time.UTC)
	if err := os.Chtimes(s.Path, written, written); err != nil {
		t.Fatal(err)
	}
	created := written.Add(90 * time.Second).Truncate(time.Second)
	verdict := func() Result {
		fi, err := os.Stat(s.Path)
		if err != nil {
			t.Fatal(err)
		}
		return VolumeVerdict(VolumeFacts{Secret: s, Volume: "cdb_postgres_data", Exists: true, Created: created, Modified: fi.ModTime()}, "cdb-setup up")
	}
	if r := verdict(); r.Status != OK {
		t.Fatalf("before: %s %q", r.Status, r.Detail)
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

	// A new password (say `secrets init --force`): the volume is now older.
	if err := os.WriteFile(s.Path, pw(), 0o600); err != nil {
		t.Fatal(err)
	}
	if r := verdict(); r.Status != Fail {
		t.Fatalf("after changing the file: %s %q", r.Status, r.Detail)
	}

	run(secrets.KeychainPullSteps(m, true))
	if got, _ := os.ReadFile(s.Path); string(got) != string(old) {
		t.Fatal("pull --force did not restore the mirrored value")
	}
	if r := verdict(); r.Status != OK {
		t.Fatalf("after keychain pull --force: %s %q", r.Status, r.Detail)
	}
}
