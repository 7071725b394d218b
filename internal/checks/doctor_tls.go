package checks

import (
	"context"

	"github.com/claire-de-binare/cdb-setup/internal/tlscert"
)

// tlsCheck: the certificates `tls init` made for `up --overlay tls` still valid,
// a warning 30 days before the first expires, naming `cdb-setup tls rotate`.
func tlsCheck(e Env) Check {
	return check("tls.expiry", "TLS certificates not expiring", func(ctx context.Context) Result {
		if e.SecretsDir == "" {
			return skip("the secrets folder is unknown")
		}
		return TLSExpiry(tlscert.Dir(e.SecretsDir))
	})
}
