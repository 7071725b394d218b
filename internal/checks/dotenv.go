package checks

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/claire-de-binare/cdb-setup/internal/platform"
	"github.com/claire-de-binare/cdb-setup/internal/secrets"
)

// composeDotEnv checks the .env compose reads by itself from the project
// directory (the first -f file's folder, CDB_STACK.md). cdb-setup keeps
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
	var used, unused []string
	for name, value := range parseDotEnv(b) {
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

// parseDotEnv reads KEY=VALUE lines the way compose does for the cases that
// matter here: comments, `export `, quotes.
func parseDotEnv(b []byte) map[string]string {
	out := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		line = strings.TrimPrefix(line, "export ")
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		v = strings.TrimSpace(v)
		if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
			v = v[1 : len(v)-1]
		}
		out[strings.TrimSpace(k)] = v
	}
	return out
}
