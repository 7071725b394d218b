package secrets

import (
	"bytes"
	"fmt"
	"net/url"
	"path/filepath"
	"sort"
	"strings"
	"text/template"

	"github.com/claire-de-binare/cdb-setup/internal/platform"
)

// DeriveInput is what a derived secret's template can see.
type DeriveInput struct {
	// Dir is the secrets folder: `secret "NAME"` reads <Dir>/NAME, so a
	// derived value always matches the file the services read.
	Dir string
	// Values override files (from-env derives before anything is written).
	Values map[string][]byte
	// Env is the non-secret environment (ComposeEnv): `env "POSTGRES_USER"
	// "claire_user"` mirrors compose's ${POSTGRES_USER:-claire_user}.
	Env map[string]string
	// TLS is true when the tls overlay is chosen (sslmode=require).
	TLS bool
}

// templateData is the template's dot.
type templateData struct{ TLS bool }

// Derive renders a derived secret's template. The functions are:
//
//	secret "NAME"        the value of another secret (file or Values)
//	env "NAME" "default" a non-secret environment variable, or default when unset or empty
//	urlpassword          escape for the password part of a URL's user info
//	urluser              escape for the user part of a URL's user info
//	.TLS                 the tls overlay is chosen
//
// Errors name the missing input, never a value.
func Derive(name, tmpl string, in DeriveInput) ([]byte, error) {
	var failed error
	funcs := template.FuncMap{
		"secret": func(n string) (string, error) {
			v, err := inputSecret(n, in)
			if err != nil {
				failed = err
				return "", err
			}
			return string(v), nil
		},
		"env": func(k, def string) string {
			if v := in.Env[k]; v != "" {
				return v
			}
			return def
		},
		"urlpassword": func(s string) string { return strings.TrimPrefix(url.UserPassword("", s).String(), ":") },
		"urluser":     func(s string) string { return url.User(s).String() },
	}
	t, err := template.New(name).Funcs(funcs).Option("missingkey=error").Parse(tmpl)
	if err != nil {
		return nil, fmt.Errorf("%s: template: %w", name, err)
	}
	var buf bytes.Buffer
	if err := t.Execute(&buf, templateData{TLS: in.TLS}); err != nil {
		if failed != nil {
			return nil, fmt.Errorf("%s: %w", name, failed)
		}
		// text/template errors quote the template position, not values.
		return nil, fmt.Errorf("%s: template: %w", name, err)
	}
	out := buf.Bytes()
	if err := ValidateValue(out); err != nil {
		return nil, fmt.Errorf("%s: the template produced an invalid value: %w", name, err)
	}
	return out, nil
}

func inputSecret(n string, in DeriveInput) ([]byte, error) {
	if err := validName(n); err != nil {
		return nil, err
	}
	v, ok := in.Values[n]
	if !ok {
		b, exists, err := readSecretFile(filepath.Join(in.Dir, n))
		if err != nil {
			return nil, err
		}
		if !exists {
			return nil, fmt.Errorf("needs %s, which does not exist yet: run `cdb-setup secrets init`", n)
		}
		v = b
	}
	if len(v) == 0 {
		return nil, fmt.Errorf("needs %s, which is empty: run `cdb-setup secrets init --force` or `secrets rotate %s`", n, n)
	}
	if err := ValidateValue(v); err != nil {
		return nil, fmt.Errorf("needs %s, which is malformed (%v): run `cdb-setup secrets fix` first", n, err)
	}
	return v, nil
}

// Dependencies lists the secrets a template reads with `secret "NAME"`,
// by running it with a recording function (so only names actually used on
// some path count; both TLS branches are tried).
func Dependencies(tmpl string) ([]string, error) {
	seen := map[string]bool{}
	funcs := template.FuncMap{
		"secret":      func(n string) string { seen[n] = true; return "x" },
		"env":         func(_, def string) string { return def },
		"urlpassword": func(s string) string { return s },
		"urluser":     func(s string) string { return s },
	}
	t, err := template.New("deps").Funcs(funcs).Parse(tmpl)
	if err != nil {
		return nil, err
	}
	for _, tls := range []bool{false, true} {
		if err := t.Execute(&bytes.Buffer{}, templateData{TLS: tls}); err != nil {
			return nil, err
		}
	}
	out := make([]string, 0, len(seen))
	for n := range seen {
		out = append(out, n)
	}
	sort.Strings(out)
	return out, nil
}

// deriveEnv is what compose interpolates ${POSTGRES_USER:-claire_user}
// with, in compose's own order: the environment compose gets, then the .env
// file of the compose folder (the first compose file's), then the default
// (in the template). Values of secret-named variables are not in o.Env and
// are not taken from .env either.
func (o Options) deriveEnv() map[string]string {
	out := map[string]string{}
	for k, v := range o.Env {
		out[k] = v
	}
	for k, v := range o.dotEnv() {
		if out[k] == "" && !secretLike.MatchString(k) {
			out[k] = v
		}
	}
	return out
}

// dotEnvPath is compose's .env: next to the first compose file.
func (o Options) dotEnvPath() string {
	if o.Repo == "" || o.Catalogue == nil || len(o.Catalogue.Files) == 0 {
		return ""
	}
	f := o.Catalogue.Files[0]
	if !filepath.IsAbs(f) {
		f = filepath.Join(o.Repo, f)
	}
	return filepath.Join(filepath.Dir(f), ".env")
}

// dotEnv reads compose's .env (KEY=VALUE lines; export, quotes and
// comments as compose treats them in the simple cases), capped at 1 MiB.
func (o Options) dotEnv() map[string]string {
	p := o.dotEnvPath()
	if p == "" {
		return nil
	}
	b, err := platform.ReadFileCapped(p, 1<<20)
	if err != nil {
		return nil
	}
	out := map[string]string{}
	for _, line := range strings.Split(strings.ReplaceAll(string(b), "\r\n", "\n"), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		line = strings.TrimPrefix(line, "export ")
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
			v = v[1 : len(v)-1]
		} else if i := strings.Index(v, " #"); i >= 0 {
			v = strings.TrimSpace(v[:i])
		}
		out[k] = v
	}
	return out
}

// userSource says where the DSN's user comes from, for messages.
func (o Options) userSource() string {
	switch {
	case o.Env["POSTGRES_USER"] != "":
		return "POSTGRES_USER from the environment"
	case o.dotEnv()["POSTGRES_USER"] != "":
		return "POSTGRES_USER from " + o.dotEnvPath()
	}
	return "POSTGRES_USER is not set: the default"
}

// userMismatch compares the user in an existing DSN with the one the
// template derives now; ok is true only when the users differ (the
// password may still match: the problem is then the user alone).
func userMismatch(existing []byte, s Secret, o Options) (have, want string, ok bool) {
	cur, err := url.Parse(strings.TrimSpace(string(existing)))
	if err != nil || cur.User == nil {
		return "", "", false
	}
	d, err := Derive(s.Name, s.Policy.Template, DeriveInput{Dir: o.dir(), Env: o.deriveEnv()})
	if err != nil {
		return "", "", false
	}
	exp, err := url.Parse(string(d))
	if err != nil || exp.User == nil {
		return "", "", false
	}
	if cur.User.Username() == exp.User.Username() {
		return "", "", false
	}
	return cur.User.Username(), exp.User.Username(), true
}
