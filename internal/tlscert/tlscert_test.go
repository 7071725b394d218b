package tlscert

import (
	"crypto/tls"
	"crypto/x509"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/claire-de-binare/cdb-setup/internal/testenv"
)

var leaves = []Leaf{{Name: "redis", DNS: []string{"cdb_redis"}}, {Name: "postgres", DNS: []string{"cdb_postgres", "db"}}}

func causes(r Report) map[string]string {
	m := map[string]string{}
	for _, f := range r.Findings {
		m[f.File] = f.Cause
	}
	return m
}

// Init makes a complete, valid set; a second Init keeps every file; the
// keys are private; Go's own TLS stack accepts the server certificate for
// every name with only ca.crt as root.
func TestInitMakesAValidSetAndIsIdempotent(t *testing.T) {
	dir := filepath.Join(testenv.TempDir(t), "tls")
	now := time.Now()
	out, err := Init(dir, leaves, now)
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Created) != len(Files(leaves)) {
		t.Errorf("created %v, want %v", out.Created, Files(leaves))
	}
	if r := Check(dir, leaves, now); len(r.Findings) != 0 {
		t.Fatalf("fresh set has findings: %+v", r.Findings)
	}
	again, err := Init(dir, leaves, now)
	if err != nil {
		t.Fatal(err)
	}
	if len(again.Created)+len(again.Renewed) != 0 {
		t.Errorf("second init changed %v %v", again.Created, again.Renewed)
	}
	if runtime.GOOS != "windows" {
		for _, k := range []string{"redis.key", "postgres.key", "client.key", "ca/ca.key"} {
			fi, err := os.Stat(filepath.Join(dir, k))
			if err != nil || fi.Mode().Perm() != 0o600 {
				t.Errorf("%s: %v %v, want mode 0600", k, fi.Mode(), err)
			}
		}
	}
	pair, err := tls.LoadX509KeyPair(filepath.Join(dir, "postgres.crt"), filepath.Join(dir, "postgres.key"))
	if err != nil {
		t.Fatal(err)
	}
	caPEM, _ := os.ReadFile(filepath.Join(dir, CAFile))
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	leaf, _ := x509.ParseCertificate(pair.Certificate[0])
	for _, n := range []string{"cdb_postgres", "db", "localhost", "127.0.0.1", "::1"} {
		if _, err := leaf.Verify(x509.VerifyOptions{Roots: pool, DNSName: n}); err != nil {
			t.Errorf("postgres.crt for %s: %v", n, err)
		}
	}
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: pool, DNSName: "cdb_redis"}); err == nil {
		t.Error("postgres.crt is valid for cdb_redis")
	}
}

// Check names the cause: a key from another pair, a certificate missing a
// name, an expired certificate, an expiring one (a warning), a readable key.
func TestCheckNamesTheCause(t *testing.T) {
	dir := filepath.Join(testenv.TempDir(t), "tls")
	now := time.Now()
	if _, err := Init(dir, leaves, now); err != nil {
		t.Fatal(err)
	}
	// The postgres key swapped for redis's: pair mismatch.
	b, _ := os.ReadFile(filepath.Join(dir, "redis.key"))
	if err := os.WriteFile(filepath.Join(dir, "postgres.key"), b, 0o600); err != nil {
		t.Fatal(err)
	}
	// A new name the redis certificate lacks.
	wider := []Leaf{{Name: "redis", DNS: []string{"cdb_redis", "cache"}}, leaves[1]}
	got := causes(Check(dir, wider, now))
	if got["postgres.key"] != CauseKeyMismatch || got["redis.crt"] != CauseWrongSAN {
		t.Errorf("findings %v", got)
	}
	later := now.Add(LeafValidity - 10*24*time.Hour)
	r := Check(dir, leaves, later)
	if got := causes(r); got["redis.crt"] != CauseExpiring || !r.OK() == (got["postgres.key"] == "") {
		t.Errorf("10 days before expiry: %v", got)
	}
	if got := causes(Check(dir, leaves, now.Add(LeafValidity+time.Hour))); got["redis.crt"] != CauseExpired || got["client.crt"] != CauseExpired {
		t.Errorf("after expiry: %v", got)
	}
	if runtime.GOOS != "windows" {
		if err := os.Chmod(filepath.Join(dir, "client.key"), 0o644); err != nil {
			t.Fatal(err)
		}
		if got := causes(Check(dir, leaves, now)); got["client.key"] != CauseKeyExposed {
			t.Errorf("a 0644 key: %v", got)
		}
	}
	// Init repairs what is broken and keeps the CA.
	caBefore, _ := os.ReadFile(filepath.Join(dir, CAFile))
	if _, err := Init(dir, wider, now); err != nil {
		t.Fatal(err)
	}
	if r := Check(dir, wider, now); len(r.Problems()) != 0 {
		t.Errorf("after init: %+v", r.Findings)
	}
	caAfter, _ := os.ReadFile(filepath.Join(dir, CAFile))
	if string(caBefore) != string(caAfter) {
		t.Error("init replaced a valid CA")
	}
}

// Rotate issues new leaf keys under the same CA and keeps the old files.
func TestRotateKeepsTheCAAndBacksUp(t *testing.T) {
	dir := filepath.Join(testenv.TempDir(t), "tls")
	now := time.Now()
	if _, err := Init(dir, leaves, now); err != nil {
		t.Fatal(err)
	}
	oldKey, _ := os.ReadFile(filepath.Join(dir, "redis.key"))
	oldCA, _ := os.ReadFile(filepath.Join(dir, CAFile))
	out, err := Rotate(dir, leaves, now.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	newKey, _ := os.ReadFile(filepath.Join(dir, "redis.key"))
	newCA, _ := os.ReadFile(filepath.Join(dir, CAFile))
	if string(oldKey) == string(newKey) || string(oldCA) != string(newCA) {
		t.Error("rotate: the redis key did not change, or the CA did")
	}
	if b, err := os.ReadFile(filepath.Join(out.Backup, "redis.key")); err != nil || string(b) != string(oldKey) {
		t.Errorf("backup of redis.key: %v", err)
	}
	if r := Check(dir, leaves, now); len(r.Findings) != 0 {
		t.Errorf("after rotate: %+v", r.Findings)
	}
	// Fingerprints follow the content.
	if Fingerprint(dir, []string{"redis.crt"}) == Fingerprint(out.Backup, []string{"redis.crt"}) {
		t.Error("fingerprint unchanged after rotate")
	}
}

// The PEM readers take any bytes without panicking, and what they accept
// is a real certificate or key.
func FuzzParsePEM(f *testing.F) {
	dir := filepath.Join(testenv.TempDir(f), "tls")
	if _, err := Init(dir, leaves[:1], time.Now()); err != nil {
		f.Fatal(err)
	}
	for _, n := range []string{"ca.crt", "redis.crt", "redis.key"} {
		b, _ := os.ReadFile(filepath.Join(dir, n))
		f.Add(b)
	}
	f.Add([]byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"))
	f.Add([]byte("-----BEGIN EC PRIVATE KEY-----\n\n-----END EC PRIVATE KEY-----\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if c, err := ParseCert(b); err == nil && c == nil {
			t.Fatal("nil certificate without an error")
		}
		if k, err := ParseKey(b); err == nil && k.Public() == nil {
			t.Fatal("a key without a public key")
		}
	})
}
