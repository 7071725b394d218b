package checks

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/compose-spec/compose-go/v2/dotenv"

	"github.com/claire-de-binare/cdb-setup/internal/platform"
	"github.com/claire-de-binare/cdb-setup/internal/secrets"
)

// composeDotEnv checks the .env compose reads by itself from the project
// directory (the first -f file's folder, docs/up.md). cdb-setup keeps
// secret values out of compose's environment, but a GRAFANA_PASSWORD in that
// .env reaches compose anyway, sets GF_SECURITY_ADMIN_PASSWORD next to
// ..._FILE, and Grafana refuses to start (trap 2). Only names are reported,
// never values.
func (p *Preflight) composeDotEnv(ctx context.Context) Result {
	if p.ComposeDir == "" {
		return skip("no compose folder")
	}
	path := filepath.Join(p.ComposeDir, ".env")
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return ok("no .env in " + p.ComposeDir)
	}
	if err != nil {
		return warn(fmt.Sprintf("%s cannot be read: %v", path, err), "check the file's permissions")
	}
	// compose-go's own parser, so a value reads as compose reads it
	// (`KEY=v # note` is "v", but `KEY= # note` is "# note"). ${VAR} is
	// looked up in the user's environment, as compose does: a .env that may
	// set a secret name is reported. An unset one is "" without compose-go's
	// logged warning.
	values, err := dotenv.UnmarshalBytesWithLookup(b, func(name string) (string, bool) {
		if p.Env != nil {
			if v, ok := p.Env.LookupEnv(name); ok {
				return v, true
			}
		}
		return "", true
	})
	if err != nil {
		what := "a line"
		if m := dotEnvError.FindStringSubmatch(err.Error()); m != nil {
			what = "line " + m[1] + ": " + strings.TrimSpace(m[2])
		}
		return fail(fmt.Sprintf("%s cannot be parsed (%s): compose reads this file and refuses it too", path, what),
			fmt.Sprintf("correct %s (%s): NAME=value, with quotes around a value that holds spaces, # or quotes", path, what))
	}
	var used, unused []string
	for name, value := range values {
		if value == "" {
			continue
		}
		if _, kept := secrets.ComposeEnv(platform.MapEnvironment{name: "x"}, p.SecretNames, p.SecretsDir)[name]; kept {
			continue
		}
		if p.referenced(name) {
			used = append(used, name)
		} else {
			unused = append(unused, name)
		}
	}
	sort.Strings(used)
	sort.Strings(unused)
	fix := fmt.Sprintf("remove %s from %s: the services read their secrets from the files in SECRETS_PATH", strings.Join(append(used, unused...), ", "), path)
	switch {
	case len(used) > 0:
		return fail(fmt.Sprintf("%s sets %s, which the compose files interpolate: the secret value would reach the containers as an environment variable (Grafana then refuses to start: both GF_SECURITY_ADMIN_PASSWORD and ..._FILE)", path, strings.Join(used, ", ")), fix)
	case len(unused) > 0:
		return warn(fmt.Sprintf("%s holds secret values (%s) in the repository folder", path, strings.Join(unused, ", ")), fix)
	}
	return ok(path + " holds no secret values")
}

// referenced reports whether a selected compose file interpolates name.
func (p *Preflight) referenced(name string) bool {
	for _, f := range p.ComposeFiles {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		if bytes.Contains(b, []byte("${"+name)) || bytes.Contains(b, []byte("$"+name)) {
			return true
		}
	}
	return false
}

// dotEnvError keeps the line number and the kind of a dotenv parse error;
// the rest is not shown: it can quote the line, and so a value.
var dotEnvError = regexp.MustCompile(`^line (\d+): ([a-z ]*)`)
