package cli

import (
	"context"

	"github.com/claire-de-binare/cdb-setup/internal/setup"
	"github.com/claire-de-binare/cdb-setup/internal/step"
)

// wizardTLSSteps: when the TLS overlay is chosen, the wizard makes the
// certificates before it starts the stack (`cdb-setup tls init`, which
// keeps valid ones), so `up --overlay tls` finds them.
func wizardTLSSteps(f *Factory, in setup.Input, sf StackFlags) []step.Step {
	if !sf.hasOverlay("tls") {
		return nil
	}
	return []step.Step{&setup.CommandStep{
		StepID:      "tls.init",
		Summary:     "make the local CA and the redis, postgres and client certificates the TLS overlay needs (in the secrets folder's tls/)",
		Targets:     []string{"tls/"},
		Done:        "the TLS certificates are ready",
		AlreadyDone: "the TLS certificates were already there and valid",
		Fix:         "cdb-setup tls init",
		Run: func(ctx context.Context) (bool, error) {
			g := *f.Global
			g.JSON, g.SecretsPath = false, in.Answers.SecretsPath
			fc := *f
			fc.Global, fc.Context, fc.ws = &g, ctx, in.Workspace
			o := &TLSOptions{F: &fc, Action: "init", Profile: sf.Profile}
			err := tlsRun(o)
			return !o.changed, err
		},
	}}
}
