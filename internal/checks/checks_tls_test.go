package checks

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/claire-de-binare/cdb-setup/internal/testenv"
	"github.com/claire-de-binare/cdb-setup/internal/tlscert"
)

// The TLS preflight: missing → tls init; a wrong name → tls rotate, naming
// the missing name; a set about to expire → a warning naming tls rotate;
// doctor's expiry line warns 30 days ahead and fails after.
func TestTLSCertsNamesCauseAndFix(t *testing.T) {
	dir := filepath.Join(testenv.TempDir(t), "tls")
	leaves := []tlscert.Leaf{{Name: "redis", DNS: []string{"cdb_redis"}}, {Name: "postgres", DNS: []string{"cdb_postgres"}}}
	if r := TLSCerts(dir, leaves); r.Status != Fail || r.Fix != "cdb-setup tls init" {
		t.Fatalf("no folder: %+v", r)
	}
	if r := TLSExpiry(dir); r.Status != Skip {
		t.Errorf("doctor without certificates: %+v", r)
	}
	now := time.Now()
	if _, err := tlscert.Init(dir, leaves, now); err != nil {
		t.Fatal(err)
	}
	if r := TLSCerts(dir, leaves); r.Status != OK || !strings.Contains(r.Detail, "cdb_redis") {
		t.Fatalf("fresh set: %+v", r)
	}
	if err := os.Remove(filepath.Join(dir, "client.key")); err != nil {
		t.Fatal(err)
	}
	if r := TLSCerts(dir, leaves); r.Status != Fail || r.Fix != "cdb-setup tls init" || !strings.Contains(r.Detail, "client.key: is missing") {
		t.Errorf("a missing key: %+v", r)
	}
	renamed := []tlscert.Leaf{{Name: "redis", DNS: []string{"cache"}}, leaves[1]}
	if _, err := tlscert.Init(dir, leaves, now); err != nil {
		t.Fatal(err)
	}
	if r := TLSCerts(dir, renamed); r.Status != Fail || r.Fix != "cdb-setup tls rotate" || !strings.Contains(r.Detail, "redis.crt: is not valid for cache") {
		t.Errorf("a renamed service: %+v", r)
	}
	defer func() { tlsNow = time.Now }()
	tlsNow = func() time.Time { return now.Add(tlscert.LeafValidity - 20*24*time.Hour) }
	if r := TLSCerts(dir, leaves); r.Status != Warn || r.Fix != "cdb-setup tls rotate" {
		t.Errorf("20 days before expiry: %+v", r)
	}
	if r := TLSExpiry(dir); r.Status != Warn || r.Fix != "cdb-setup tls rotate" || !strings.Contains(r.Detail, "in 19 days") && !strings.Contains(r.Detail, "in 20 days") {
		t.Errorf("doctor 20 days before expiry: %+v", r)
	}
	tlsNow = func() time.Time { return now.Add(tlscert.LeafValidity + time.Hour) }
	if r := TLSExpiry(dir); r.Status != Fail || !strings.Contains(r.Detail, "expired") {
		t.Errorf("doctor after expiry: %+v", r)
	}
	tlsNow = func() time.Time { return now }
	if r := TLSExpiry(dir); r.Status != OK {
		t.Errorf("doctor on a fresh set: %+v", r)
	}
}
