package secrets

import (
	"fmt"
	"sort"
	"strings"

	"github.com/claire-de-binare/cdb-setup/internal/exitcode"
	"github.com/claire-de-binare/cdb-setup/internal/manifest"
	"github.com/claire-de-binare/cdb-setup/internal/step"
)

// InitOptions are the inputs of `secrets init` (and of the wizard's secrets
// page).
type InitOptions struct {
	Options
	// Force replaces existing non-empty secrets (old values backed up first).
	Force bool
	// External holds values for external secrets, by file name, already
	// normalised (NormalizeInputFile). They come from files, stdin or an
	// answers file, never from argv or the environment.
	External map[string][]byte
}

// InitSteps returns the steps that create the folder and every secret of the
// catalogue: generated ones are generated (an existing one is kept unless
// Force), derived ones derived from the files written before them, external
// ones written from External, or left/created empty when optional ("not
// configured"). A required external secret with no value fails its step,
// and every such step is reported (run them with KeepGoing). A value given
// for a name the compose files do not use, or for a secret cdb-setup makes
// itself, is a usage error (exit 2) wherever it came from: --set, an
// --answers file, the wizard's answers.
func InitSteps(o InitOptions) ([]step.Step, error) {
	if o.Catalogue == nil {
		return nil, fmt.Errorf("no secret catalogue")
	}
	for name := range o.External {
		s, ok := o.Catalogue.Get(name)
		if !ok {
			return nil, exitcode.Usagef("a value was given for %s, but the compose files use no such secret (they use: %s)", name, strings.Join(o.Catalogue.Names(), ", "))
		}
		if s.Policy.Kind != manifest.KindExternal {
			return nil, exitcode.Usagef("%s is %s by cdb-setup; it takes no value (use `cdb-setup secrets rotate %s` for a new one)", name, s.Policy.Kind, name)
		}
		if err := ValidateValue(o.External[name]); err != nil {
			return nil, exitcode.New(exitcode.Usage, fmt.Errorf("the value given for %s: %w", name, err))
		}
	}
	steps := []step.Step{&FolderStep{Dir: o.dir(), Repo: o.Repo, StateDir: o.StateDir, Reach: o.Reach}}
	for _, s := range o.Catalogue.Secrets {
		steps = append(steps, initStep(s, o))
	}
	return steps, nil
}

func initStep(s Secret, o InitOptions) *SecretStep {
	st := &SecretStep{Secret: s, Dir: o.dir(), Mode: o.Mode, Replace: o.Force}
	project := o.Project
	switch s.Policy.Kind {
	case manifest.KindGenerated:
		p := s.Policy
		st.How = describeGenerated(p)
		st.Value = func() ([]byte, error) { return GenerateFor(p) }
		st.Keep = true
		st.Warn = volumeWarning(project, s)
	case manifest.KindDerived:
		st.How = describeDerived(s)
		st.Value = func() ([]byte, error) {
			return Derive(s.Name, s.Policy.Template, DeriveInput{Dir: o.dir(), Env: o.deriveEnv(), TLS: o.TLS})
		}
		st.Replace = false
		st.Accept = derivedAccept(s, o.Options, nil)
		// With --force the inputs are regenerated, so the derived value
		// follows them (with a backup); without it a stale value is
		// reported, and `fix` re-derives it.
		st.Overwrite = o.Force
		st.RefuseFix = fmt.Sprintf("it does not match %s: `cdb-setup secrets fix` re-derives it (the old value is backed up)", strings.TrimPrefix(describeDerived(s), "derived from "))
	default:
		v, given := o.External[s.Name]
		if !given {
			st.How = "empty placeholder: not configured"
			st.Value = func() ([]byte, error) { return nil, nil }
			st.Keep = true
			st.Replace = false
			st.Missing = externalMissing(s)
		} else {
			st.How = "from the value you supplied"
			st.Value = func() ([]byte, error) { return v, nil }
			st.Replace = false
			st.Overwrite = o.Force
			st.RefuseFix = "pass --force to replace it (the old value is backed up first)"
			st.Accept = func(existing []byte) bool { return string(existing) == string(v) }
		}
	}
	return st
}

// externalMissing handles an external secret nobody gave a value for.
func externalMissing(s Secret) func(fileState) *step.Result {
	return func(fsx fileState) *step.Result {
		fix := fmt.Sprintf("pass --set %s=@FILE (or @- for stdin), or an --answers file", s.Name)
		if !s.Policy.Optional {
			if fsx.exists {
				return &step.Result{Status: step.StatusFailed, Detail: fmt.Sprintf("%s is required and empty", s.Name), Fix: fix}
			}
			return &step.Result{Status: step.StatusFailed, Detail: fmt.Sprintf("%s is required and has no value (%s)", s.Name, promptOf(s)), Fix: fix}
		}
		if fsx.exists {
			return &step.Result{Status: step.StatusDone, Detail: fmt.Sprintf("%s is not configured (empty; optional)", s.Name),
				Fields: map[string]any{"name": s.Name, "configured": false}}
		}
		return nil // write the empty placeholder
	}
}

func promptOf(s Secret) string {
	if s.Policy.Prompt != "" {
		return s.Policy.Prompt
	}
	return "value for " + s.Name
}

// Complete is true when every secret of c has its file, holding a value
// unless the secret is optional: init then writes no new value, so there is
// nothing a keychain copy could be restored instead of (and no need to ask
// the keychain at all).
func Complete(c *Catalogue) bool {
	for _, s := range c.Secrets {
		fsx, err := inspect(s.Path, 0)
		if err != nil || !fsx.regular {
			return false
		}
		if len(fsx.data) == 0 && (s.Policy.Kind != manifest.KindExternal || !s.Policy.Optional) {
			return false
		}
	}
	return true
}

// MissingRequired lists the required external secrets that have neither a
// non-empty file nor a value in given: what --no-input must report at once.
func MissingRequired(c *Catalogue, given map[string][]byte) []string {
	var out []string
	for _, s := range c.Secrets {
		if s.Policy.Kind != manifest.KindExternal || s.Policy.Optional {
			continue
		}
		if len(given[s.Name]) > 0 {
			continue
		}
		fsx, err := inspect(s.Path, 0)
		if err == nil && fsx.regular && len(fsx.data) > 0 {
			continue
		}
		out = append(out, s.Name)
	}
	sort.Strings(out)
	return out
}
