// Package tlscert makes and checks the local certificates of the TLS overlay,
// in the style of mkcert: one local CA, one leaf certificate per TLS server
// (redis, postgres) valid for every name a client may use to reach it, and a
// client certificate for redis-cli. Everything is crypto/x509 with ECDSA
// P-256; nothing is shelled out to openssl.
//
// The files live in <secrets folder>/tls/ with the names CDB's tls.yml mounts
// (ca.crt, redis.crt, redis.key, postgres.crt, postgres.key, client.crt,
// client.key); the CA's private key is in <secrets folder>/tls/ca/ca.key, a
// folder no compose file mounts, so it never reaches a container. Private
// keys are 0600 (Windows: a protected DACL) through platform's private-file
// path; certificates are 0644 because the containers' users read them.
package tlscert

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/claire-de-binare/cdb-setup/internal/platform"
)

// File names inside the tls folder (those CDB's tls.yml mounts).
const (
	CAFile     = "ca.crt"
	CAKeyDir   = "ca"     // <tls>/ca/: the CA's private key only, never mounted
	CAKeyFile  = "ca.key" // in CAKeyDir
	ClientName = "client" // client.crt, client.key: redis-cli's certificate
)

// Validity: the CA lasts ten years, leaves 825 days (the longest any
// browser or OS trust store accepts for a leaf), as mkcert does.
const (
	CAValidity   = 10 * 365 * 24 * time.Hour
	LeafValidity = 825 * 24 * time.Hour
	// WarnBefore is how long before expiry doctor and check warn.
	WarnBefore = 30 * 24 * time.Hour
)

// Leaf is one server certificate to make: Name is the file stem
// (redis → redis.crt, redis.key), DNS the host names it must be valid for
// (the compose service name and container_name). localhost, 127.0.0.1 and
// ::1 are always added.
type Leaf struct {
	Name string
	DNS  []string
}

// Names is every name the leaf is valid for, sorted and without repeats.
func (l Leaf) Names() []string {
	seen := map[string]bool{}
	var out []string
	for _, n := range append(append([]string{}, l.DNS...), "localhost", "127.0.0.1", "::1") {
		if n != "" && !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}

// Files lists every file of a complete set for these leaves (relative to the
// tls folder, forward slashes).
func Files(leaves []Leaf) []string {
	out := []string{CAFile, CAKeyDir + "/" + CAKeyFile}
	for _, l := range leaves {
		out = append(out, l.Name+".crt", l.Name+".key")
	}
	return append(out, ClientName+".crt", ClientName+".key")
}

// Dir is the tls folder of a secrets folder.
func Dir(secretsDir string) string { return filepath.Join(secretsDir, "tls") }

// Outcome is what Init or Rotate did, file by file.
type Outcome struct {
	Created []string // files written that did not exist
	Renewed []string // files replaced (the old ones are in Backup)
	Kept    []string // files already valid, left alone
	Backup  string   // folder holding the replaced files, "" if none
}

// Init makes whatever of the set is missing: the CA first (kept when it is
// there and valid), then every leaf and the client certificate it lacks or
// that is no longer valid for its names. Existing valid files are never
// touched, so running it twice changes nothing.
func Init(dir string, leaves []Leaf, now time.Time) (Outcome, error) {
	return issue(dir, leaves, now, false)
}

// Rotate re-issues every leaf and the client certificate with new keys,
// signed by the existing CA (clients that trust the CA keep trusting the
// new certificates). The CA itself is renewed only when it expires within
// WarnBefore or is broken; then every client must trust the new ca.crt. The
// replaced files are moved to <tls>/.backup/<time>/ first.
func Rotate(dir string, leaves []Leaf, now time.Time) (Outcome, error) {
	return issue(dir, leaves, now, true)
}

func issue(dir string, leaves []Leaf, now time.Time, rotate bool) (Outcome, error) {
	var out Outcome
	if _, err := platform.EnsurePrivateDir(dir, false); err != nil {
		return out, err
	}
	if _, err := platform.EnsurePrivateDir(filepath.Join(dir, CAKeyDir), false); err != nil {
		return out, err
	}
	backup := filepath.Join(dir, ".backup", now.UTC().Format("20060102T150405Z"))
	moveAway := func(rel string) error {
		src := filepath.Join(dir, filepath.FromSlash(rel))
		if _, err := os.Lstat(src); errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		dst := filepath.Join(backup, filepath.FromSlash(rel))
		if _, err := platform.EnsurePrivateDir(filepath.Dir(dst), false); err != nil {
			return err
		}
		if err := os.Rename(src, dst); err != nil {
			return fmt.Errorf("keep the old %s: %w", rel, err)
		}
		out.Backup = backup
		out.Renewed = append(out.Renewed, rel)
		return nil
	}
	note := func(rel string, replaced bool) {
		if !replaced {
			out.Created = append(out.Created, rel)
		}
	}

	ca, caKey, caErr := loadCA(dir, now)
	if caErr != nil || (rotate && ca.NotAfter.Before(now.Add(WarnBefore))) {
		var err error
		had := exists(filepath.Join(dir, CAFile)) || exists(filepath.Join(dir, CAKeyDir, CAKeyFile))
		for _, rel := range []string{CAFile, CAKeyDir + "/" + CAKeyFile} {
			if err := moveAway(rel); err != nil {
				return out, err
			}
		}
		ca, caKey, err = newCA(dir, now)
		if err != nil {
			return out, err
		}
		note(CAFile, had)
		note(CAKeyDir+"/"+CAKeyFile, had)
		rotate = true // a new CA invalidates every leaf
	} else {
		out.Kept = append(out.Kept, CAFile, CAKeyDir+"/"+CAKeyFile)
	}

	all := append(append([]Leaf{}, leaves...), Leaf{Name: ClientName})
	for _, l := range all {
		client := l.Name == ClientName
		if !rotate {
			if err := checkLeaf(dir, l, client, ca, now); err == nil {
				out.Kept = append(out.Kept, l.Name+".crt", l.Name+".key")
				continue
			}
		}
		had := exists(filepath.Join(dir, l.Name+".crt")) || exists(filepath.Join(dir, l.Name+".key"))
		for _, rel := range []string{l.Name + ".crt", l.Name + ".key"} {
			if err := moveAway(rel); err != nil {
				return out, err
			}
		}
		if err := newLeaf(dir, l, client, ca, caKey, now); err != nil {
			return out, err
		}
		note(l.Name+".crt", had)
		note(l.Name+".key", had)
	}
	// A kept key someone made readable by others is made private again.
	for _, rel := range Files(leaves) {
		if strings.HasSuffix(rel, ".key") {
			if err := platform.RestrictFile(filepath.Join(dir, filepath.FromSlash(rel)), 0o600, false); err != nil && !errors.Is(err, platform.ErrNotEnforced) {
				return out, err
			}
		}
	}
	return out, nil
}

func exists(p string) bool {
	_, err := os.Lstat(p)
	return err == nil
}

func serial() (*big.Int, error) {
	return rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
}

func newCA(dir string, now time.Time) (*x509.Certificate, crypto.Signer, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	sn, err := serial()
	if err != nil {
		return nil, nil, err
	}
	host, _ := os.Hostname()
	tpl := &x509.Certificate{
		SerialNumber:          sn,
		Subject:               pkix.Name{Organization: []string{"cdb-setup local CA"}, CommonName: "cdb-setup local CA " + host},
		NotBefore:             now.Add(-time.Hour), // a container clock a little behind still accepts it
		NotAfter:              now.Add(CAValidity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, err
	}
	if err := writeKey(filepath.Join(dir, CAKeyDir, CAKeyFile), key); err != nil {
		return nil, nil, err
	}
	if err := writeCert(filepath.Join(dir, CAFile), der); err != nil {
		return nil, nil, err
	}
	cert, err := x509.ParseCertificate(der)
	return cert, key, err
}

func newLeaf(dir string, l Leaf, client bool, ca *x509.Certificate, caKey crypto.Signer, now time.Time) error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	sn, err := serial()
	if err != nil {
		return err
	}
	tpl := &x509.Certificate{
		SerialNumber: sn,
		Subject:      pkix.Name{Organization: []string{"cdb-setup local certificate"}, CommonName: l.Name},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(LeafValidity),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		// Servers are also clients: redis' replication connects with its
		// own certificate (tls.yml sets --tls-replication yes).
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	if client {
		tpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	} else {
		for _, n := range l.Names() {
			if ip := net.ParseIP(n); ip != nil {
				tpl.IPAddresses = append(tpl.IPAddresses, ip)
			} else {
				tpl.DNSNames = append(tpl.DNSNames, n)
			}
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return err
	}
	if err := writeKey(filepath.Join(dir, l.Name+".key"), key); err != nil {
		return err
	}
	return writeCert(filepath.Join(dir, l.Name+".crt"), der)
}

// writeKey writes a private key 0600 (Windows: protected DACL), atomically.
// PKCS#8 ("BEGIN PRIVATE KEY"): what PostgreSQL, Redis and every client
// library read.
func writeKey(path string, key *ecdsa.PrivateKey) error {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return err
	}
	b := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	if err := platform.WriteFileAtomic(path, b, 0o600); err != nil {
		return err
	}
	if err := platform.RestrictFile(path, 0o600, false); err != nil && !errors.Is(err, platform.ErrNotEnforced) {
		return err
	}
	return nil
}

// writeCert writes a certificate 0644: it is public, and the container's
// server user (redis, postgres) must read the bind-mounted file.
func writeCert(path string, der []byte) error {
	return platform.WriteFileAtomic(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
}

// Fingerprint is a short SHA-256 of the files a service mounts (in order),
// "" when one cannot be read. The overlay labels each service with it, so
// Compose recreates exactly the services whose certificates changed.
func Fingerprint(dir string, rels []string) string {
	h := sha256.New()
	for _, rel := range rels {
		b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(rel)))
		if err != nil {
			return ""
		}
		fmt.Fprintf(h, "%s %d\n", rel, len(b))
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// ParseCert reads the first certificate of a PEM file's bytes.
func ParseCert(b []byte) (*x509.Certificate, error) {
	for {
		var blk *pem.Block
		blk, b = pem.Decode(b)
		if blk == nil {
			return nil, errors.New("no PEM certificate in it")
		}
		if blk.Type == "CERTIFICATE" {
			c, err := x509.ParseCertificate(blk.Bytes)
			if err != nil {
				return nil, fmt.Errorf("not a readable X.509 certificate: %v", err)
			}
			return c, nil
		}
	}
}

// ParseKey reads the first private key of a PEM file's bytes (PKCS#8, SEC 1
// "EC PRIVATE KEY" or PKCS#1 "RSA PRIVATE KEY": a user may bring their own).
func ParseKey(b []byte) (crypto.Signer, error) {
	for {
		var blk *pem.Block
		blk, b = pem.Decode(b)
		if blk == nil {
			return nil, errors.New("no PEM private key in it")
		}
		var k any
		var err error
		switch blk.Type {
		case "PRIVATE KEY":
			k, err = x509.ParsePKCS8PrivateKey(blk.Bytes)
		case "EC PRIVATE KEY":
			k, err = x509.ParseECPrivateKey(blk.Bytes)
		case "RSA PRIVATE KEY":
			k, err = x509.ParsePKCS1PrivateKey(blk.Bytes)
		default:
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("not a readable private key: %v", err)
		}
		s, ok := k.(crypto.Signer)
		if !ok {
			return nil, fmt.Errorf("a %T key cannot sign", k)
		}
		return s, nil
	}
}

// samePublicKey compares a certificate's public key with a private key's.
func samePublicKey(c *x509.Certificate, k crypto.Signer) bool {
	a, err1 := x509.MarshalPKIXPublicKey(c.PublicKey)
	b, err2 := x509.MarshalPKIXPublicKey(k.Public())
	return err1 == nil && err2 == nil && bytes.Equal(a, b)
}

func readCert(path string) (*x509.Certificate, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	c, err := ParseCert(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	return c, nil
}

func readKey(path string) (crypto.Signer, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	k, err := ParseKey(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	return k, nil
}

// loadCA reads the CA certificate and key and checks they belong together,
// that it is a CA, and that it has not expired.
func loadCA(dir string, now time.Time) (*x509.Certificate, crypto.Signer, error) {
	c, err := readCert(filepath.Join(dir, CAFile))
	if err != nil {
		return nil, nil, err
	}
	k, err := readKey(filepath.Join(dir, CAKeyDir, CAKeyFile))
	if err != nil {
		return c, nil, err
	}
	if !samePublicKey(c, k) {
		return c, nil, errors.New("ca.crt and ca/ca.key are not a pair")
	}
	if !c.IsCA {
		return c, nil, errors.New("ca.crt is not a CA certificate")
	}
	if now.After(c.NotAfter) {
		return c, nil, fmt.Errorf("ca.crt expired on %s", c.NotAfter.Format("2006-01-02"))
	}
	return c, k, nil
}

// checkLeaf is Check's verdict on one leaf, as an error (nil: valid).
func checkLeaf(dir string, l Leaf, client bool, ca *x509.Certificate, now time.Time) error {
	p := Problem(dir, l, client, ca, now)
	if p == nil {
		return nil
	}
	return p
}
