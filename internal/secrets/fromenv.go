package secrets

import (
	"fmt"
	"sort"
	"strings"

	"github.com/claire-de-binare/cdb-setup/internal/manifest"
	"github.com/claire-de-binare/cdb-setup/internal/platform"
	"github.com/claire-de-binare/cdb-setup/internal/step"
)

// FromEnvVar is the CI variable for a secret file: CDB_SECRET_ + the name
// upper-cased with '.' and '-' as '_' (MEXC_API_KEY.txt →
// CDB_SECRET_MEXC_API_KEY_TXT).
func FromEnvVar(name string) string {
	return "CDB_SECRET_" + strings.ToUpper(strings.NewReplacer(".", "_", "-", "_").Replace(name))
}

// FromEnvOptions are the inputs of `secrets from-env`.
type FromEnvOptions struct {
	Options
	// Environ is where the CDB_SECRET_* variables are read.
	Environ platform.Environment
	// Force replaces existing different values (with a backup).
	Force bool
}

// FromEnvError lists every variable that is missing or malformed, so CI
// fails once with the whole list rather than once per run.
type FromEnvError struct {
	Missing []string // variable names
	Invalid []string // "VAR: reason" (never the value)
}

func (e *FromEnvError) Error() string {
	var b strings.Builder
	if len(e.Missing) > 0 {
		fmt.Fprintf(&b, "%d required secret(s) missing from the environment (no fallback values are used):\n  - %s", len(e.Missing), strings.Join(e.Missing, "\n  - "))
	}
	if len(e.Invalid) > 0 {
		if b.Len() > 0 {
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "%d secret(s) malformed:\n  - %s", len(e.Invalid), strings.Join(e.Invalid, "\n  - "))
	}
	return b.String()
}

func (e *FromEnvError) Fix() string {
	return "set each listed variable as a CI secret (a trailing newline is fine; CR is not), then run again"
}

// FromEnvSteps read every secret from CDB_SECRET_* variables with the same
// byte rules as files, derive the derived ones from them, and write them.
// Generated and required external secrets must be present; optional
// external ones become empty placeholders. Nothing is written unless every
// variable is present and valid.
func FromEnvSteps(o FromEnvOptions) ([]step.Step, error) {
	if o.Catalogue == nil {
		return nil, fmt.Errorf("no secret catalogue")
	}
	values := map[string][]byte{}
	ferr := &FromEnvError{}
	for _, s := range o.Catalogue.Secrets {
		if s.Policy.Kind == manifest.KindDerived {
			continue
		}
		key := FromEnvVar(s.Name)
		raw, ok := o.Environ.LookupEnv(key)
		if !ok || raw == "" {
			if s.Policy.Kind == manifest.KindExternal && s.Policy.Optional {
				values[s.Name] = nil
				continue
			}
			ferr.Missing = append(ferr.Missing, key)
			continue
		}
		v, err := NormalizeEnvValue(raw)
		if err != nil {
			ferr.Invalid = append(ferr.Invalid, fmt.Sprintf("%s: %v", key, err))
			continue
		}
		if len(v) == 0 && !(s.Policy.Kind == manifest.KindExternal && s.Policy.Optional) {
			ferr.Missing = append(ferr.Missing, key)
			continue
		}
		if HasErrors(Lint(s.Name, v, s.Policy)) {
			ferr.Invalid = append(ferr.Invalid, fmt.Sprintf("%s: %s", key, problemCodes(Lint(s.Name, v, s.Policy))))
			continue
		}
		values[s.Name] = v
	}
	// A derived variable that is set must agree with the derivation: CI once
	// wrote a wrong DSN by hand.
	for _, s := range o.Catalogue.Secrets {
		if s.Policy.Kind != manifest.KindDerived {
			continue
		}
		if raw, ok := o.Environ.LookupEnv(FromEnvVar(s.Name)); ok && raw != "" && len(ferr.Missing) == 0 {
			v, err := NormalizeEnvValue(raw)
			if err != nil || !derivedAccept(s, o.Options, values)(v) {
				ferr.Invalid = append(ferr.Invalid, fmt.Sprintf("%s: does not match the value derived from %s; unset it (cdb-setup derives it)", FromEnvVar(s.Name), strings.TrimPrefix(describeDerived(s), "derived from ")))
			}
		}
	}
	if len(ferr.Missing) > 0 || len(ferr.Invalid) > 0 {
		sort.Strings(ferr.Missing)
		return nil, ferr
	}
	steps := []step.Step{&FolderStep{Dir: o.dir(), Repo: o.Repo, StateDir: o.StateDir, Reach: o.Reach}}
	for _, s := range o.Catalogue.Secrets {
		s := s
		st := &SecretStep{Secret: s, Dir: o.dir(), Mode: o.Mode, Overwrite: o.Force, id: "secrets.from-env." + s.Name,
			RefuseFix: "pass --force to replace it (the old value is backed up first)"}
		if s.Policy.Kind == manifest.KindDerived {
			st.How = describeDerived(s)
			st.Value = func() ([]byte, error) {
				return Derive(s.Name, s.Policy.Template, DeriveInput{Dir: o.dir(), Values: values, Env: o.deriveEnv(), TLS: o.TLS})
			}
			v, err := st.Value()
			if err != nil {
				return nil, err
			}
			st.Accept = func(existing []byte) bool { return string(existing) == string(v) }
		} else {
			v := values[s.Name]
			st.How = "from " + FromEnvVar(s.Name)
			if len(v) == 0 {
				st.How = "empty placeholder: not configured"
			}
			st.Value = func() ([]byte, error) { return v, nil }
			st.Accept = func(existing []byte) bool { return string(existing) == string(v) }
			if len(v) == 0 {
				// An optional secret not given in CI keeps what the file has.
				st.Keep = true
				st.Missing = externalMissing(s)
			}
		}
		steps = append(steps, st)
	}
	return steps, nil
}
