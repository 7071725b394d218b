package checks

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/claire-de-binare/cdb-setup/internal/tlscert"
)

// tlsNow is the clock of the TLS checks (a test moves it).
var tlsNow = time.Now

// TLSCerts checks the certificates of the tls overlay in dir for these
// leaves: the preflight of `up --overlay tls` and `tls check` share it. A problem
// fails with the fix for its cause; expiry within 30 days warns.
func TLSCerts(dir string, leaves []tlscert.Leaf) Result {
	if _, err := os.Stat(dir); os.IsNotExist(err) {
		return fail(fmt.Sprintf("no certificates in %s", dir), "cdb-setup tls init")
	}
	r := tlscert.Check(dir, leaves, tlsNow())
	if probs := r.Problems(); len(probs) > 0 {
		var parts []string
		fix := "cdb-setup tls init"
		for _, f := range probs {
			parts = append(parts, f.Error())
			if f.Cause != tlscert.CauseMissing && f.Cause != tlscert.CauseKeyExposed {
				// An expired, mismatched, untrusted or wrongly named
				// certificate is replaced, not kept.
				fix = "cdb-setup tls rotate"
			}
		}
		return fail(fmt.Sprintf("in %s: %s", dir, strings.Join(parts, "; ")), fix)
	}
	names := make([]string, 0, len(leaves))
	for _, l := range leaves {
		names = append(names, l.Name+" ("+strings.Join(l.Names(), ", ")+")")
	}
	if len(r.Findings) > 0 {
		var parts []string
		for _, f := range r.Findings {
			parts = append(parts, f.Error())
		}
		return warn(fmt.Sprintf("in %s: %s", dir, strings.Join(parts, "; ")), "cdb-setup tls rotate")
	}
	return ok(fmt.Sprintf("%s: CA, %s and the client certificate valid until %s", dir, strings.Join(names, ", "), r.Expires.UTC().Format("2006-01-02")))
}

func (p *Preflight) tlsCerts(ctx context.Context) Result {
	return TLSCerts(p.TLSDir, p.TLSLeaves)
}

// TLSExpiry is doctor's line: it does not know the services' names (no
// compose files are read), so it checks only what can break by itself —
// expiry — and warns 30 days ahead. Without certificates it skips.
func TLSExpiry(dir string) Result {
	exp, file, err := tlscert.Earliest(dir)
	switch {
	case os.IsNotExist(err):
		return skip(fmt.Sprintf("no TLS certificates in %s (only `up --overlay tls` needs them: cdb-setup tls init)", dir))
	case err != nil:
		return fail(err.Error(), "cdb-setup tls rotate")
	}
	now := tlsNow()
	day := exp.UTC().Format("2006-01-02")
	switch {
	case now.After(exp):
		return fail(fmt.Sprintf("%s expired on %s: `up --overlay tls` fails its TLS preflight", file, day), "cdb-setup tls rotate")
	case exp.Before(now.Add(tlscert.WarnBefore)):
		return warn(fmt.Sprintf("%s expires on %s (in %d days)", file, day, int(exp.Sub(now).Hours()/24)), "cdb-setup tls rotate")
	}
	return ok(fmt.Sprintf("the earliest, %s, expires on %s", file, day))
}
