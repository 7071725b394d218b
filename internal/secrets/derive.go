package secrets

import (
	"bytes"
	"fmt"
	"net/url"
	"path/filepath"
	"sort"
	"strings"
	"text/template"
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
