package checks

import (
	"context"
	"sync"
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

// RunConcurrently runs independent checks at once (each bounded like
// RunAll's) and returns their outcomes in list order: the wizard's
// environment checks ask the Engine, Compose and gitleaks, each a process
// or a round trip, before the user sees the first question.
func RunConcurrently(ctx context.Context, list []Check) []Outcome {
	out := make([]Outcome, len(list))
	var wg sync.WaitGroup
	for i, c := range list {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cctx, cancel := context.WithTimeout(ctx, checkTimeout)
			defer cancel()
			out[i] = Outcome{ID: c.ID, Title: c.Title, Result: c.Run(cctx)}
		}()
	}
	wg.Wait()
	return out
}
