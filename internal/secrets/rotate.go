package secrets

import (
	"fmt"
	"slices"
	"strings"

	"github.com/claire-de-binare/cdb-setup/internal/manifest"
	"github.com/claire-de-binare/cdb-setup/internal/step"
)

// RotateOptions are the inputs of `secrets rotate NAME`.
type RotateOptions struct {
	Options
	Name string
	// ForceVolume rotates a secret that a Docker volume keeps (postgres,
	// grafana) although the service will then refuse the new value until
	// its volume is wiped or the password changed inside it.
	ForceVolume bool
	// InService: the caller changes the password inside the running
	// service first (internal/rotate), so the volume keeps no stale one.
	InService bool
	// Value, when set, is the new value (the caller made it to set it in
	// the service too); otherwise one is generated.
	Value []byte
}

// ErrVolume stops a rotation that would lock a service out of its volume.
var ErrVolume = fmt.Errorf("is kept in a Docker volume")

// RotateSteps replace a generated secret with a new value (the old one
// backed up first) and re-derive every derived secret that reads it.
func RotateSteps(o RotateOptions) ([]step.Step, error) {
	if o.Catalogue == nil {
		return nil, fmt.Errorf("no secret catalogue")
	}
	s, ok := o.Catalogue.Get(o.Name)
	if !ok {
		return nil, fmt.Errorf("unknown secret %q: the compose files use %s", o.Name, strings.Join(o.Catalogue.Names(), ", "))
	}
	switch s.Policy.Kind {
	case manifest.KindGenerated:
	case manifest.KindDerived:
		return nil, step.WithFix(fmt.Errorf("%s is derived from other secrets; it cannot be rotated by itself", s.Name),
			"rotate its input instead (e.g. `cdb-setup secrets rotate POSTGRES_PASSWORD`), or `cdb-setup secrets fix` to re-derive it")
	default:
		return nil, step.WithFix(fmt.Errorf("%s is an external secret (you supply it); cdb-setup cannot make a new one", s.Name),
			fmt.Sprintf("get a new value from its provider, then `cdb-setup secrets init --force --set %s=@FILE`", s.Name))
	}
	if s.Policy.Volume != "" && !o.ForceVolume && !o.InService {
		return nil, step.WithFix(fmt.Errorf("%s %w: %s", s.Name, ErrVolume, volumeWarning(o.Project, s)),
			fmt.Sprintf("if the volume does not exist yet or you will handle it, run `cdb-setup secrets rotate %s --force-volume`", s.Name))
	}
	steps := []step.Step{&FolderStep{Dir: o.dir(), Repo: o.Repo, StateDir: o.StateDir, Reach: o.Reach}}
	p := s.Policy
	value := func() ([]byte, error) { return GenerateFor(p) }
	if o.Value != nil {
		v := o.Value
		value = func() ([]byte, error) { return v, nil }
	}
	warn := volumeWarning(o.Project, s)
	if o.InService {
		warn = ""
	}
	steps = append(steps, &SecretStep{
		Secret: s, Dir: o.dir(), Mode: o.Mode, Replace: true,
		How:   describeGenerated(p) + ", rotated",
		Value: value,
		Warn:  warn,
		id:    "secrets.rotate." + s.Name,
	})
	for _, d := range o.Catalogue.Secrets {
		if d.Policy.Kind != manifest.KindDerived {
			continue
		}
		deps, err := Dependencies(d.Policy.Template)
		if err != nil || !slices.Contains(deps, s.Name) {
			continue
		}
		st := initStep(d, InitOptions{Options: o.Options})
		st.Overwrite = true
		st.id = "secrets.derive." + d.Name
		steps = append(steps, st)
	}
	return steps, nil
}
