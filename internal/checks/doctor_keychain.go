package checks

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/claire-de-binare/cdb-setup/internal/secrets"
)

// keychainCheck compares the secret files with their keychain mirror (the
// index holds hashes, so no secret is read from the keychain). A mirror that
// lags behind the files would restore old passwords after a wipe.
func keychainCheck(e Env, kc *secrets.Keychain) Check {
	return check("keychain", "Keychain mirror", func(ctx context.Context) Result {
		if e.Manifest == nil {
			return skip("no repository")
		}
		project := e.Project // the workspace's: the service keychain push writes
		if kc == nil {
			kc = &secrets.Keychain{Timeout: 10 * time.Second}
		}
		names := make([]string, 0, len(e.Manifest.Secrets))
		for n := range e.Manifest.Secrets {
			names = append(names, n)
		}
		m := &secrets.KeychainMirror{Keychain: kc, Service: secrets.KeychainService(project, e.SecretsDir), Project: project, Dir: e.SecretsDir, Names: names}
		st, err := m.Status(ctx)
		switch {
		case err != nil && secrets.KeychainUnavailable(err):
			return skip("no OS keychain answers here: " + firstLine(err.Error()))
		case err != nil:
			return warn("cannot read the mirror: "+firstLine(err.Error()), "cdb-setup keychain status (for details)")
		case !st.Mirrored:
			return ok("not mirrored (optional; cdb-setup keychain push keeps a copy for reinstalls)")
		}
		var stale, onlyKC []string
		for _, s := range st.Secrets {
			switch s.State {
			case secrets.KeychainDiffers, secrets.KeychainOnlyInFile:
				stale = append(stale, s.Name)
			case secrets.KeychainOnlyInKeychain:
				onlyKC = append(onlyKC, s.Name)
			}
		}
		switch {
		case len(stale) > 0:
			return warn("the keychain copy is older than the files for "+strings.Join(stale, ", ")+": a restore would bring back old passwords", "cdb-setup keychain push")
		case len(onlyKC) > 0:
			return warn("only in the keychain: "+strings.Join(onlyKC, ", "), "cdb-setup keychain pull (restores missing files, overwrites nothing)")
		}
		return ok(fmt.Sprintf("in sync (%d secrets, service %s)", len(st.Secrets), st.Service))
	})
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}
