package checks

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/claire-de-binare/cdb-setup/internal/platform"
)

// secretsPathEnvCheck: compose interpolates ${SECRETS_PATH} on the client,
// from the environment of the shell that runs it. Unset, every secret
// resolves to /REDIS_PASSWORD and compose only warns.
func secretsPathEnvCheck(e Env) Check {
	return check("secrets-path-env", "SECRETS_PATH in this shell", func(context.Context) Result {
		v, set := e.Env.LookupEnv("SECRETS_PATH")
		switch {
		case (!set || v == "") && persistedIn(e) != "":
			// A finished setup made it permanent; only this terminal
			// started before that.
			return info("not set in this terminal, which was opened before SECRETS_PATH was made permanent (" + persistedIn(e) + "): open a new terminal to have it here; cdb-setup up passes it itself")
		case !set || v == "":
			return warn("not set: docker compose run from this shell resolves every secret to /<NAME>",
				"cdb-setup env set --secrets-path "+e.q(e.SecretsDir)+" (then open a new terminal)")
		case !samePath(v, e.SecretsDir):
			return fail(fmt.Sprintf("is %s, but the secrets are in %s", v, e.SecretsDir),
				"cdb-setup env set --secrets-path "+e.q(e.SecretsDir)+" --force (then open a new terminal)")
		}
		return ok(v)
	})
}

// persistedIn is where cdb-setup made SECRETS_PATH permanent with the
// secrets folder doctor checks (a file, or the registry key), or "".
func persistedIn(e Env) string {
	so := platform.StatusOptions{Facts: e.Facts, Env: e.Env, Expected: e.SecretsDir}
	if e.ComposeDir != "" {
		so.ComposeEnv = filepath.Join(e.ComposeDir, ".env")
	}
	for _, p := range platform.EnvPlaces(so) {
		if p.Managed && p.Known && !p.Stale && samePath(p.Value, e.SecretsDir) {
			return p.Where
		}
	}
	return ""
}

func samePath(a, b string) bool {
	a, b = filepath.Clean(a), filepath.Clean(b)
	if filepath.Separator == '\\' {
		return strings.EqualFold(a, b)
	}
	return a == b
}

// newShellsCheck: what a terminal opened now would see, by running every
// installed shell for real (platform.ProbeShells, the same probe as
// `cdb-setup env status`): rc files can do anything, so reading them is not
// enough.
func newShellsCheck(e Env) Check {
	return check("secrets-path-new-shells", "SECRETS_PATH in new shells", func(ctx context.Context) Result {
		if e.Facts.OS == "windows" {
			return userEnvCheck(e)
		}
		views := platform.ProbeShells(ctx, platform.StatusOptions{Facts: e.Facts, Env: e.Env, Expected: e.SecretsDir})
		if len(views) == 0 {
			return skip("no shell found on PATH")
		}
		var right, unset, wrong []string
		for _, v := range views {
			name := v.Shell + " (" + v.Mode + ")"
			switch {
			case v.Error != "" || !v.Set:
				unset = append(unset, name)
			case !samePath(v.Value, e.SecretsDir):
				wrong = append(wrong, name+" = "+v.Value)
			default:
				right = append(right, name)
			}
		}
		fix := "cdb-setup env set --secrets-path " + e.q(e.SecretsDir)
		switch {
		case len(wrong) > 0:
			return fail("a different folder in "+strings.Join(wrong, ", "), fix+" --force; cdb-setup env status shows where each value comes from")
		case len(right) == 0:
			return warn("not set in any new shell ("+strings.Join(unset, ", ")+")", fix)
		case len(unset) > 0:
			return warn("set in "+strings.Join(right, ", ")+"; not in "+strings.Join(unset, ", "), fix+" (adds it where it is missing)")
		}
		return ok("every new shell sees " + e.SecretsDir + " (" + strings.Join(right, ", ") + ")")
	})
}

// userEnvCheck: on Windows new programs read SECRETS_PATH from
// HKCU\Environment. Same rule as `cdb-setup env status`: a different folder
// fails, unset warns (cdb-setup up passes it itself).
func userEnvCheck(e Env) Result {
	fix := "cdb-setup env set --secrets-path " + e.q(e.SecretsDir)
	for _, p := range platform.EnvPlaces(platform.StatusOptions{Facts: e.Facts, Env: e.Env, Expected: e.SecretsDir}) {
		if p.Where != platform.UserEnvKey+`\`+platform.EnvVar {
			continue
		}
		if !samePath(p.Value, e.SecretsDir) {
			return fail(fmt.Sprintf("%s is %s, but the secrets are in %s", p.Where, p.Value, e.SecretsDir), fix+" --force (then open a new terminal)")
		}
		return ok(p.Where + " = " + p.Value)
	}
	return warn("not set in "+platform.UserEnvKey+": new programs do not see it", fix)
}
