package cli

import (
	"context"
	"path/filepath"
	"sync"
	"time"

	"github.com/docker/docker/client"

	"github.com/claire-de-binare/cdb-setup/internal/stack"
	"github.com/claire-de-binare/cdb-setup/internal/tlscert"
)

// postChecks are the checks that only mean something once a service is
// ready: each mounted secret readable by its container's user, and the
// manifest's functional checks. They run per service as soon as it turns
// ready, in parallel with the wait for the others, so the last transition
// is followed only by its own service's checks (detection latency).
type postChecks struct {
	ctx   context.Context
	ls    *loadedStack
	api   *client.Client
	rerun string
	read  *stack.SecretReadability

	mu      sync.Mutex
	wg      sync.WaitGroup
	started map[string]string // service → container ID checked
	results map[string][]stack.CheckResult
}

func newPostChecks(ctx context.Context, ls *loadedStack, api *client.Client, rerun string) *postChecks {
	return &postChecks{ctx: ctx, ls: ls, api: api, rerun: rerun, read: &stack.SecretReadability{API: api}, started: map[string]string{}, results: map[string][]stack.CheckResult{}}
}

// Observe is called with every waiter update.
func (p *postChecks) Observe(services []stack.Service) {
	for _, s := range services {
		if s.Outcome != stack.Ready || s.ContainerID == "" {
			continue
		}
		p.mu.Lock()
		if p.started[s.Name] == s.ContainerID {
			p.mu.Unlock()
			continue
		}
		p.started[s.Name] = s.ContainerID
		p.mu.Unlock()
		p.wg.Add(1)
		go func(s stack.Service) {
			defer p.wg.Done()
			r := p.run(s)
			p.mu.Lock()
			if p.started[s.Name] == s.ContainerID {
				p.results[s.Name] = r
			}
			p.mu.Unlock()
		}(s)
	}
}

func (p *postChecks) run(s stack.Service) []stack.CheckResult {
	var out []stack.CheckResult
	if s.State == "running" { // one-shot services have exited: nothing to exec into
		for _, m := range p.ls.Model.Services[s.Name].Secrets {
			out = append(out, p.read.Check(p.ctx, s.Name, s.ContainerID, m))
		}
	}
	// Logins wait for the service as long as the waiter would (a healthy
	// postgres may still be running its init SQL on a socket-only server).
	var budget time.Duration
	if ci, err := p.api.ContainerInspect(p.ctx, s.ContainerID); err == nil {
		budget = stack.ContainerBudget(ci)
	}
	for _, c := range p.ls.Manifest.Checks {
		if c.Service != s.Name {
			continue
		}
		path := filepath.Join(p.ls.SecretsDir, c.Secret)
		vol := p.ls.Manifest.Secrets[c.Secret].Volume
		if vol != "" {
			vol = volumeName(p.ls, vol) // one spelling in every fix: the Engine's name
		}
		if t := p.ls.TLS; t != nil && (c.Service == t.Postgres || c.Service == t.Redis) {
			tc := stack.TLSClient{CAFile: filepath.Join(t.CertDir, tlscert.CAFile)}
			out = append(out, stack.RunFunctionalTLS(p.ctx, c, tc, path, p.rerun, vol, budget))
			if c.Kind == "redis-auth" {
				out = append(out, stack.PlaintextRefused(p.ctx, c))
			}
			continue
		}
		out = append(out, stack.RunFunctional(p.ctx, c, path, p.rerun, vol, budget))
	}
	return out
}

// Results waits for the running checks, checks any service whose final
// container was not checked yet (recreated meanwhile), and returns every
// result in service order.
func (p *postChecks) Results(services []stack.Service) []stack.CheckResult {
	p.Observe(services)
	p.wg.Wait()
	var out []stack.CheckResult
	for _, s := range services {
		out = append(out, p.results[s.Name]...)
	}
	return out
}
