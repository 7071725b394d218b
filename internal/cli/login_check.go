package cli

import (
	"context"
	"path/filepath"
	"time"

	"github.com/claire-de-binare/cdb-setup/internal/manifest"
	"github.com/claire-de-binare/cdb-setup/internal/rekey"
	"github.com/claire-de-binare/cdb-setup/internal/stack"
	"github.com/claire-de-binare/cdb-setup/internal/tlscert"
)

// runLoginCheck runs the manifest check c against the service as it runs
// now: a redis whose container serves only TLS (its command has --port 0,
// as with the tls overlay) is reached over TLS, verified against the CA of
// `cdb-setup tls`, whatever overlay this command was given (doctor and
// secrets rotate are not told); everything else as stack.RunFunctional.
func runLoginCheck(ctx context.Context, secretsDir string, c manifest.Check, command []string, path, rerun, vol string, budget time.Duration) stack.CheckResult {
	if c.Kind == "redis-auth" && rekey.RedisTLSFromCommand(command) != nil {
		tc := stack.TLSClient{CAFile: filepath.Join(tlscert.Dir(secretsDir), tlscert.CAFile)}
		return stack.RunFunctionalTLS(ctx, c, tc, path, rerun, vol, budget)
	}
	return stack.RunFunctional(ctx, c, path, rerun, vol, budget)
}
