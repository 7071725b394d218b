package checks

import (
	"context"
)

// SetupEnvironment lists what a whole setup needs from this machine, for
// the wizard to check before its first question: the CDB layout of the
// clone (doctor's repository check), the Docker Engine and Compose v2 (up's
// preflight checks, pf), and gitleaks for the hook (doctor's). The same
// checks as doctor and up, so the three never disagree.
func SetupEnvironment(e Env, pf *Preflight) []Check {
	cs := []Check{repoCheck(e)}
	for _, c := range pf.Checks() {
		if c.ID == "docker.engine" || c.ID == "docker.compose" {
			cs = append(cs, c)
		}
	}
	hc := hookChecks(e)
	for _, c := range hc {
		if c.ID == "gitleaks" {
			cs = append(cs, gitleaksAlone(c, hc[0]))
		}
	}
	return cs
}

// gitleaksAlone is doctor's gitleaks check without doctor's hook line: when
// it cannot tell, it says why (the hook check's reason) instead of
// pointing at a line the wizard does not show.
func gitleaksAlone(gitleaks, hook Check) Check {
	run := gitleaks.Run
	gitleaks.Run = func(ctx context.Context) Result {
		r := run(ctx)
		if r.Status == Skip {
			if h := hook.Run(ctx); h.Status == Fail {
				return skip("cannot tell: " + h.Detail)
			}
		}
		return r
	}
	return gitleaks
}
