package secrets

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/claire-de-binare/cdb-setup/internal/step"
	"github.com/claire-de-binare/cdb-setup/internal/testenv"
)

// BenchmarkKeychainPushPull is `keychain push` followed by `keychain pull`
// of the 10 CDB secrets after the folder was wiped, against the real
// keychain. Each round has new values, so push really writes all 10 entries
// and the index. Report the median of -count runs:
//
//	go test -run '^$' -bench KeychainPushPull -count 10 ./internal/secrets/
func BenchmarkKeychainPushPull(b *testing.B) {
	k := kcRealKeychain(b)
	dir := filepath.Join(testenv.TempDir(b), "secrets")
	m := kcMirror(b, k, dir, kcCDBNames)
	ctx := context.Background()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		values := kcCDBValues(b)
		kcWriteFiles(b, dir, values)
		b.StartTimer()

		rep, err := step.Run(ctx, KeychainPushSteps(m), step.Options{KeepGoing: true})
		if err != nil || rep.Failed() {
			b.Fatalf("push: %v %+v", err, rep.Results)
		}
		b.StopTimer()
		kcRemoveDir(b, dir)
		b.StartTimer()
		rep, err = step.Run(ctx, KeychainPullSteps(m, false), step.Options{KeepGoing: true})
		if err != nil || rep.Failed() {
			b.Fatalf("pull: %v %+v", err, rep.Results)
		}

		b.StopTimer()
		kcAssertFiles(b, dir, values)
		b.StartTimer()
	}
}
