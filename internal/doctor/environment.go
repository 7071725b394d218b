package doctor

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
)

// secretsPathEnvCheck: compose interpolates ${SECRETS_PATH} on the client,
// from the environment of the shell that runs it. Unset, every secret
// resolves to /REDIS_PASSWORD and compose only warns.
func secretsPathEnvCheck(e Env) Check {
	return check("secrets-path-env", "SECRETS_PATH in this shell", func(context.Context) Result {
		v, set := e.Env.LookupEnv("SECRETS_PATH")
		switch {
		case !set || v == "":
			return warn("not set: docker compose run from this shell resolves every secret to /<NAME>",
				"cdb-setup env set --secrets-path "+quote(e.SecretsPath)+" (then open a new terminal)")
		case !samePath(v, e.SecretsPath):
			return fail(fmt.Sprintf("is %s, but the secrets are in %s", v, e.SecretsPath),
				"cdb-setup env set --secrets-path "+quote(e.SecretsPath)+" --force (then open a new terminal)")
		}
		return ok(v)
	})
}

func samePath(a, b string) bool {
	a, b = filepath.Clean(a), filepath.Clean(b)
	if filepath.Separator == '\\' {
		return strings.EqualFold(a, b)
	}
	return a == b
}
