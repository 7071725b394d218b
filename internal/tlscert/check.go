package tlscert

import (
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// Causes of a finding, so callers (preflight, doctor, the diagnosis of a
// failed start) can name the cause and the fix.
const (
	CauseMissing     = "missing"
	CauseUnreadable  = "unreadable"
	CauseExpired     = "expired"
	CauseExpiring    = "expiring" // a warning: valid for less than WarnBefore
	CauseWrongSAN    = "wrong-san"
	CauseKeyMismatch = "key-mismatch"
	CauseUntrusted   = "untrusted" // not signed by ca.crt, or not a server certificate
	CauseKeyExposed  = "key-exposed"
)

// Finding is one thing wrong (or about to go wrong) with the set.
type Finding struct {
	File   string // relative to the tls folder: redis.crt, ca/ca.key…
	Cause  string
	Detail string
	// NotAfter is the certificate's expiry, when it was readable.
	NotAfter time.Time
}

func (f *Finding) Error() string { return f.File + ": " + f.Detail }

// Warning reports whether the finding is only a warning (still valid).
func (f *Finding) Warning() bool { return f.Cause == CauseExpiring }

// Report is Check's result.
type Report struct {
	Dir      string
	Findings []Finding
	// Expires is the earliest expiry of the set (zero if nothing readable).
	Expires time.Time
	// Leaves are the names each leaf was checked for.
	Leaves []Leaf
}

// OK reports whether the set is usable (warnings allowed).
func (r Report) OK() bool {
	for _, f := range r.Findings {
		if !f.Warning() {
			return false
		}
	}
	return true
}

// Problems are the findings that are not warnings.
func (r Report) Problems() []Finding {
	var out []Finding
	for _, f := range r.Findings {
		if !f.Warning() {
			out = append(out, f)
		}
	}
	return out
}

// Check verifies the set in dir for these leaves: every file present and
// readable, the CA a CA with its key, each leaf signed by the CA, valid for
// every one of its names, paired with its key and not expired; keys not
// readable by others. Expiry within WarnBefore is a warning.
func Check(dir string, leaves []Leaf, now time.Time) Report {
	r := Report{Dir: dir, Leaves: leaves}
	add := func(f Finding) { r.Findings = append(r.Findings, f) }
	earliest := func(t time.Time) {
		if r.Expires.IsZero() || t.Before(r.Expires) {
			r.Expires = t
		}
	}
	ca, err := readCert(filepath.Join(dir, CAFile))
	if err != nil {
		add(fileFinding(CAFile, err))
	} else {
		earliest(ca.NotAfter)
		switch {
		case !ca.IsCA:
			add(Finding{File: CAFile, Cause: CauseUntrusted, Detail: "is not a CA certificate"})
			ca = nil
		case now.After(ca.NotAfter):
			add(Finding{File: CAFile, Cause: CauseExpired, Detail: "expired on " + day(ca.NotAfter), NotAfter: ca.NotAfter})
		case ca.NotAfter.Before(now.Add(WarnBefore)):
			add(Finding{File: CAFile, Cause: CauseExpiring, Detail: "expires on " + day(ca.NotAfter), NotAfter: ca.NotAfter})
		}
	}
	// The CA key is needed only to issue; its absence does not break the
	// running stack, but rotate cannot work without it.
	caKeyRel := CAKeyDir + "/" + CAKeyFile
	if k, err := readKey(filepath.Join(dir, CAKeyDir, CAKeyFile)); err != nil {
		add(fileFinding(caKeyRel, err))
	} else if ca != nil && !samePublicKey(ca, k) {
		add(Finding{File: caKeyRel, Cause: CauseKeyMismatch, Detail: "is not the key of ca.crt"})
	} else if f := exposed(dir, caKeyRel); f != nil {
		add(*f)
	}
	for _, l := range append(append([]Leaf{}, leaves...), Leaf{Name: ClientName}) {
		f := Problem(dir, l, l.Name == ClientName, ca, now)
		if c, err := readCert(filepath.Join(dir, l.Name+".crt")); err == nil {
			earliest(c.NotAfter)
		}
		if f != nil {
			add(*f)
			continue
		}
		if f := exposed(dir, l.Name+".key"); f != nil {
			add(*f)
		}
	}
	return r
}

// Problem checks one leaf (or the client certificate) against ca (nil when
// ca.crt is unusable: the chain is then not checked). Nil means valid; an
// expiring certificate is returned as a warning finding.
func Problem(dir string, l Leaf, client bool, ca *x509.Certificate, now time.Time) *Finding {
	crt, key := l.Name+".crt", l.Name+".key"
	c, err := readCert(filepath.Join(dir, crt))
	if err != nil {
		f := fileFinding(crt, err)
		return &f
	}
	k, err := readKey(filepath.Join(dir, key))
	if err != nil {
		f := fileFinding(key, err)
		return &f
	}
	if !samePublicKey(c, k) {
		return &Finding{File: key, Cause: CauseKeyMismatch, Detail: fmt.Sprintf("is not the key of %s (a certificate and key from different runs: `cdb-setup tls rotate` issues a matching pair)", crt)}
	}
	if now.After(c.NotAfter) {
		return &Finding{File: crt, Cause: CauseExpired, Detail: "expired on " + day(c.NotAfter), NotAfter: c.NotAfter}
	}
	if ca != nil {
		usage := x509.ExtKeyUsageServerAuth
		if client {
			usage = x509.ExtKeyUsageClientAuth
		}
		pool := x509.NewCertPool()
		pool.AddCert(ca)
		// Verify at a time both are valid: expiry is reported on its own.
		at := now
		if at.After(ca.NotAfter) {
			at = ca.NotAfter.Add(-time.Second)
		}
		if _, err := c.Verify(x509.VerifyOptions{Roots: pool, CurrentTime: at, KeyUsages: []x509.ExtKeyUsage{usage}}); err != nil {
			return &Finding{File: crt, Cause: CauseUntrusted, Detail: fmt.Sprintf("is not trusted through ca.crt: %v", err), NotAfter: c.NotAfter}
		}
	}
	if !client {
		var missing []string
		for _, n := range l.Names() {
			if c.VerifyHostname(n) != nil {
				missing = append(missing, n)
			}
		}
		if len(missing) > 0 {
			return &Finding{File: crt, Cause: CauseWrongSAN, Detail: fmt.Sprintf("is not valid for %s (it names %s)", strings.Join(missing, ", "), strings.Join(sans(c), ", ")), NotAfter: c.NotAfter}
		}
	}
	if c.NotAfter.Before(now.Add(WarnBefore)) {
		return &Finding{File: crt, Cause: CauseExpiring, Detail: "expires on " + day(c.NotAfter), NotAfter: c.NotAfter}
	}
	return nil
}

func sans(c *x509.Certificate) []string {
	out := append([]string{}, c.DNSNames...)
	for _, ip := range c.IPAddresses {
		out = append(out, ip.String())
	}
	if len(out) == 0 {
		return []string{"no names"}
	}
	return out
}

// exposed: a private key others can read (Unix mode bits; Windows DACLs
// are set by the write path and not re-read here).
func exposed(dir, rel string) *Finding {
	if runtime.GOOS == "windows" {
		return nil
	}
	fi, err := os.Stat(filepath.Join(dir, filepath.FromSlash(rel)))
	if err != nil || fi.Mode().Perm()&0o077 == 0 {
		return nil
	}
	return &Finding{File: rel, Cause: CauseKeyExposed, Detail: fmt.Sprintf("is readable by others (mode %04o): chmod 600 %s", fi.Mode().Perm(), filepath.Join(dir, filepath.FromSlash(rel)))}
}

func fileFinding(rel string, err error) Finding {
	if errors.Is(err, fs.ErrNotExist) {
		return Finding{File: rel, Cause: CauseMissing, Detail: "is missing"}
	}
	return Finding{File: rel, Cause: CauseUnreadable, Detail: err.Error()}
}

func day(t time.Time) string { return t.UTC().Format("2006-01-02") }

// Earliest is the first expiry among the certificates in dir (its file
// name too). An error satisfying os.IsNotExist means there are none.
func Earliest(dir string) (time.Time, string, error) {
	names, err := filepath.Glob(filepath.Join(dir, "*.crt"))
	if err != nil {
		return time.Time{}, "", err
	}
	if len(names) == 0 {
		return time.Time{}, "", &fs.PathError{Op: "read", Path: dir, Err: fs.ErrNotExist}
	}
	var at time.Time
	var file string
	for _, n := range names {
		c, err := readCert(n)
		if err != nil {
			return time.Time{}, "", err
		}
		if at.IsZero() || c.NotAfter.Before(at) {
			at, file = c.NotAfter, filepath.Base(n)
		}
	}
	return at, file, nil
}
