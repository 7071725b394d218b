package secrets

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/claire-de-binare/cdb-setup/internal/step"
	"github.com/claire-de-binare/cdb-setup/internal/testenv"
)

// kcSetMTime gives path a past modification time with nanoseconds and
// returns what the file system kept (the comparisons below are exact, at
// the precision the file system has: nanoseconds on ext4 and tmpfs).
func kcSetMTime(t testing.TB, path string, tm time.Time) time.Time {
	t.Helper()
	if err := os.Chtimes(path, tm, tm); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.ModTime()
}

func kcMTime(t testing.TB, path string) time.Time {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.ModTime()
}

func kcResult(rep step.Report, id string) step.Result {
	for _, r := range rep.Results {
		if r.Step == id {
			return r
		}
	}
	return step.Result{}
}

// kcRawIndex reads the index as stored, as a generic JSON object.
func kcRawIndex(t testing.TB, m *KeychainMirror) map[string]any {
	t.Helper()
	s, err := m.Keychain.Get(context.Background(), m.Service, KeychainIndexUser)
	if err != nil {
		t.Fatal(err)
	}
	var raw map[string]any
	if err := json.Unmarshal([]byte(s), &raw); err != nil {
		t.Fatal(err)
	}
	return raw
}

// The keychain copy restores the file's modification time too, so a volume
// initialised with that value is no longer older than the file (the fix of
// the volumes.secrets check is `keychain pull --force`).
func TestKeychainPullRestoresMTime(t *testing.T) {
	k := kcRealKeychain(t)
	dir := filepath.Join(testenv.TempDir(t), "secrets")
	values := kcCDBValues(t)
	kcWriteFiles(t, dir, values)
	pg, redis := filepath.Join(dir, "POSTGRES_PASSWORD"), filepath.Join(dir, "REDIS_PASSWORD")
	pgTime := kcSetMTime(t, pg, time.Date(2024, 3, 1, 12, 0, 0, 123456789, time.FixedZone("CET", 3600)))
	redisTime := kcSetMTime(t, redis, time.Date(2023, 11, 5, 8, 30, 15, 987654321, time.UTC))
	m := kcMirror(t, k, dir, kcCDBNames)
	kcRunSteps(t, KeychainPushSteps(m), values)

	// The index records UTC RFC3339Nano times, never values.
	mt, _ := kcRawIndex(t, m)["mtime"].(map[string]any)
	if got, _ := mt["POSTGRES_PASSWORD"].(string); got != pgTime.UTC().Format(time.RFC3339Nano) {
		t.Fatalf("index mtime of POSTGRES_PASSWORD = %q, want %q", got, pgTime.UTC().Format(time.RFC3339Nano))
	}

	// --force replacement of a differing file.
	if err := os.WriteFile(pg, kcPassword(t), 0o600); err != nil {
		t.Fatal(err)
	}
	// Restore of a missing file.
	if err := os.Remove(redis); err != nil {
		t.Fatal(err)
	}
	rep := kcRunSteps(t, KeychainPullSteps(m, true), values)
	kcAssertFiles(t, dir, map[string][]byte{"POSTGRES_PASSWORD": values["POSTGRES_PASSWORD"], "REDIS_PASSWORD": values["REDIS_PASSWORD"]})
	for _, c := range []struct {
		name, path string
		want       time.Time
	}{{"POSTGRES_PASSWORD", pg, pgTime}, {"REDIS_PASSWORD", redis, redisTime}} {
		r := kcResult(rep, "keychain.pull."+c.name)
		if r.Status != step.StatusChanged || !strings.Contains(r.Detail, "modification time restored to "+c.want.UTC().Format(time.RFC3339Nano)) {
			t.Fatalf("%s: %s %q", c.name, r.Status, r.Detail)
		}
		if got := kcMTime(t, c.path); !got.Equal(c.want) {
			t.Fatalf("%s: mtime %s after pull, want %s", c.name, got.UTC().Format(time.RFC3339Nano), c.want.UTC().Format(time.RFC3339Nano))
		}
	}

	// An entry changed outside cdb-setup after the push: the recorded time
	// is not these bytes' time, so it is not set.
	grafana := filepath.Join(dir, "GRAFANA_PASSWORD")
	grafanaTime := kcMTime(t, grafana)
	other := kcPassword(t)
	values["GRAFANA_PASSWORD.other"] = other
	if err := k.Set(context.Background(), m.Service, "GRAFANA_PASSWORD", KeychainEncode(other)); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(grafana); err != nil {
		t.Fatal(err)
	}
	rep = kcRunSteps(t, KeychainPullSteps(m, false), values)
	r := kcResult(rep, "keychain.pull.GRAFANA_PASSWORD")
	if r.Status != step.StatusChanged || strings.Contains(r.Detail, "modification time restored") || r.Fields["mtime"] != nil {
		t.Fatalf("stale index entry: %s %q", r.Status, r.Detail)
	}
	if kcMTime(t, grafana).Equal(grafanaTime) {
		t.Fatal("the recorded time was set on bytes the index does not describe")
	}
}

// An index written before times were recorded still parses and pulls (the
// restored file keeps the time of the write); the next push records them.
func TestKeychainOldIndexWithoutTimes(t *testing.T) {
	k := kcRealKeychain(t)
	dir := filepath.Join(testenv.TempDir(t), "secrets")
	values := kcCDBValues(t)
	kcWriteFiles(t, dir, values)
	pg := filepath.Join(dir, "POSTGRES_PASSWORD")
	pgTime := kcSetMTime(t, pg, time.Date(2024, 3, 1, 12, 0, 0, 123456789, time.UTC))
	m := kcMirror(t, k, dir, kcCDBNames)
	kcRunSteps(t, KeychainPushSteps(m), values)

	// Rewrite the index as an older cdb-setup wrote it: no "mtime".
	raw := kcRawIndex(t, m)
	delete(raw, "mtime")
	b, _ := json.Marshal(raw)
	if err := k.Set(context.Background(), m.Service, KeychainIndexUser, string(b)); err != nil {
		t.Fatal(err)
	}

	if err := os.Remove(pg); err != nil {
		t.Fatal(err)
	}
	rep := kcRunSteps(t, KeychainPullSteps(m, false), values)
	r := kcResult(rep, "keychain.pull.POSTGRES_PASSWORD")
	if r.Status != step.StatusChanged || strings.Contains(r.Detail, "modification time") || r.Fields["mtime"] != nil {
		t.Fatalf("old index: %s %q", r.Status, r.Detail)
	}
	kcAssertFiles(t, dir, values)
	if kcMTime(t, pg).Equal(pgTime) {
		t.Fatal("a time was restored from an index that has none")
	}

	// The next push records the times of the files already mirrored.
	pgTime = kcSetMTime(t, pg, pgTime)
	rep = kcRunSteps(t, KeychainPushSteps(m), values)
	if r := kcResult(rep, "keychain.push.POSTGRES_PASSWORD"); r.Status != step.StatusChanged || !strings.Contains(r.Detail, "modification time recorded") {
		t.Fatalf("push over an old index: %s %q", r.Status, r.Detail)
	}
	if s := kcStatuses(rep)["keychain.index"]; s != step.StatusChanged {
		t.Fatalf("index: %s", s)
	}
	mt, _ := kcRawIndex(t, m)["mtime"].(map[string]any)
	if got, _ := mt["POSTGRES_PASSWORD"].(string); got != pgTime.UTC().Format(time.RFC3339Nano) {
		t.Fatalf("index mtime after push = %q", got)
	}
	// Nothing left to record: a second push changes nothing.
	rep = kcRunSteps(t, KeychainPushSteps(m), values)
	for _, r := range rep.Results {
		if r.Status == step.StatusChanged {
			t.Fatalf("second push changed %s: %q", r.Step, r.Detail)
		}
	}
}

// MirrorUpdate (after `secrets rotate`) records the new file's time.
func TestKeychainMirrorUpdateRecordsMTime(t *testing.T) {
	k := kcRealKeychain(t)
	dir := filepath.Join(testenv.TempDir(t), "secrets")
	values := kcCDBValues(t)
	kcWriteFiles(t, dir, values)
	m := kcMirror(t, k, dir, kcCDBNames)
	kcRunSteps(t, KeychainPushSteps(m), values)

	redis := filepath.Join(dir, "REDIS_PASSWORD")
	values["REDIS_PASSWORD"] = kcPassword(t)
	kcWriteFiles(t, dir, map[string][]byte{"REDIS_PASSWORD": values["REDIS_PASSWORD"]})
	rotated := kcSetMTime(t, redis, time.Date(2025, 1, 2, 3, 4, 5, 600000007, time.UTC))
	if updated, err := m.MirrorUpdate(context.Background(), "REDIS_PASSWORD"); err != nil || !updated {
		t.Fatalf("updated=%v err=%v", updated, err)
	}
	mt, _ := kcRawIndex(t, m)["mtime"].(map[string]any)
	if got, _ := mt["REDIS_PASSWORD"].(string); got != rotated.UTC().Format(time.RFC3339Nano) {
		t.Fatalf("index mtime after MirrorUpdate = %q, want %q", got, rotated.UTC().Format(time.RFC3339Nano))
	}
	if err := os.Remove(redis); err != nil {
		t.Fatal(err)
	}
	kcRunSteps(t, KeychainPullSteps(m, false), values)
	kcAssertFiles(t, dir, values)
	if got := kcMTime(t, redis); !got.Equal(rotated) {
		t.Fatalf("mtime after pull %s, want %s", got, rotated)
	}
}
