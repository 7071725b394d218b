package stack

import (
	"context"
	"fmt"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
)

// Running is one service's container as it was at a moment: which
// container, since when it runs, and whether it was ready (running, and
// healthy when it has a healthcheck).
type Running struct {
	ContainerID string
	StartedAt   string
	Ready       bool
}

// ContainerLister is the part of the Engine client ProjectContainers needs.
type ContainerLister interface {
	ContainerList(ctx context.Context, options container.ListOptions) ([]container.Summary, error)
}

// ProjectContainers lists every container of the compose project, running
// or not, one-off containers included (compose's project label).
func ProjectContainers(ctx context.Context, api ContainerLister, project string) ([]container.Summary, error) {
	return api.ContainerList(ctx, container.ListOptions{All: true, Filters: filters.NewArgs(filters.Arg("label", LabelProject+"="+project))})
}

// ServiceSnapshot is the containers of project's services (one-off containers
// excluded) as they are now; a service without a container is absent.
func ServiceSnapshot(ctx context.Context, api EngineAPI, project string, services []string) (map[string]Running, error) {
	want := map[string]bool{}
	for _, s := range services {
		want[s] = true
	}
	list, err := ProjectContainers(ctx, api, project)
	if err != nil {
		return nil, fmt.Errorf("list the containers of %s: %w", project, err)
	}
	out := map[string]Running{}
	for _, c := range list {
		svc := c.Labels[LabelService]
		if !want[svc] || c.Labels[LabelOneOff] == "True" {
			continue
		}
		ci, err := api.ContainerInspect(ctx, c.ID)
		if err != nil {
			return nil, fmt.Errorf("inspect %s: %w", svc, err)
		}
		r := Running{ContainerID: c.ID}
		if st := ci.State; st != nil {
			r.StartedAt = st.StartedAt
			r.Ready = st.Running && !st.Restarting && (st.Health == nil || st.Health.Status == "" || st.Health.Status == container.NoHealthcheck || st.Health.Status == container.Healthy)
			r.Ready = r.Ready || finishedOneShot(ci)
		}
		if prev, seen := out[svc]; seen && prev.Ready && !r.Ready {
			continue // keep the ready one of two (scaled or mid-recreate)
		}
		out[svc] = r
	}
	return out, nil
}

// Unchanged reports whether every service was ready in before and is the
// very same container, not restarted, in after: an `up` that found the
// stack running and healthy and changed nothing.
func Unchanged(before, after map[string]Running, services []string) bool {
	for _, s := range services {
		b, ok := before[s]
		if !ok || !b.Ready {
			return false
		}
		if a, ok := after[s]; !ok || a != b {
			return false
		}
	}
	return len(services) > 0
}

// finishedOneShot: a container that exited 0 and that the Engine will not
// start again (restart "no", or "on-failure" after a clean exit) is a
// one-shot task that is done, as the waiter judges it (a migration).
func finishedOneShot(ci container.InspectResponse) bool {
	st := ci.State
	if st == nil || st.Status != container.StateExited || st.ExitCode != 0 || st.OOMKilled {
		return false
	}
	policy := container.RestartPolicyMode("")
	if ci.HostConfig != nil {
		policy = ci.HostConfig.RestartPolicy.Name
	}
	return policy == "" || policy == container.RestartPolicyDisabled || policy == container.RestartPolicyOnFailure
}
