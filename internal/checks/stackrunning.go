package checks

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/docker/docker/api/types/container"

	"github.com/claire-de-binare/cdb-setup/internal/stack"
)

// serviceState is one service of the stack as the Engine sees it now.
type serviceState struct {
	name  string
	state string // "up", "finished", or what is wrong: "not created", "unhealthy", …
	bad   bool   // broken (unhealthy, crashed, restarting), not merely not started
}

// StackRunning says whether the stack runs: every service in services
// up (healthy, or running without a healthcheck; a one-shot finished with
// exit 0), listing the others with their state. up is the fix. api nil (the
// Engine cannot be reached): unknown, never a guess.
func StackRunning(ctx context.Context, api stack.EngineAPI, project string, services []string, up string) Result {
	if api == nil {
		return info("unknown: the Docker Engine cannot be reached (see the Docker line above)")
	}
	list, err := stack.ProjectContainers(ctx, api, project)
	if err != nil {
		return info("unknown: cannot list the containers of " + project + ": " + err.Error())
	}
	byService := map[string][]container.Summary{}
	for _, c := range list {
		if c.Labels[stack.LabelOneOff] == "True" {
			continue
		}
		svc := c.Labels[stack.LabelService]
		byService[svc] = append(byService[svc], c)
	}
	var states []serviceState
	for _, name := range services {
		st := serviceState{name: name, state: "not created"}
		for _, c := range byService[name] {
			ci, err := api.ContainerInspect(ctx, c.ID)
			if err != nil || ci.State == nil {
				st = serviceState{name: name, state: "unknown (cannot inspect its container)"}
				continue
			}
			s := classify(ci)
			s.name = name
			// Of two containers (mid-recreate), the one that is up counts.
			if st.state != "up" && st.state != "finished" {
				st = s
			}
		}
		states = append(states, st)
	}
	var upNames, finished, waiting, broken []string
	for _, s := range states {
		switch {
		case s.state == "up":
			upNames = append(upNames, s.name)
		case s.state == "finished":
			finished = append(finished, s.name)
		case s.bad:
			broken = append(broken, s.name+" "+s.state)
		default:
			waiting = append(waiting, s.name+" "+s.state)
		}
	}
	sort.Strings(broken)
	sort.Strings(waiting)
	n := len(upNames) + len(finished)
	done := ""
	if len(finished) > 0 {
		done = "; one-shot finished: " + strings.Join(finished, ", ")
	}
	switch {
	case len(broken) > 0:
		return fail(fmt.Sprintf("%d of %d services up%s; not up: %s", n, len(states), done, strings.Join(append(broken, waiting...), ", ")),
			up+" (starts what is missing and says why a service is not healthy)")
	case n == 0:
		return warn(fmt.Sprintf("not running (project %s has no running service)", project), up)
	case len(waiting) > 0:
		return warn(fmt.Sprintf("%d of %d services up%s; not up: %s", n, len(states), done, strings.Join(waiting, ", ")), up)
	}
	return ok(fmt.Sprintf("all %d services up and healthy (project %s)%s", len(states), project, done))
}

// classify names the state of one container: "up", "finished" (a one-shot
// that exited 0 and is not restarted), or what it is instead.
func classify(ci container.InspectResponse) serviceState {
	st := ci.State
	health := ""
	if st.Health != nil {
		health = st.Health.Status
	}
	policy := ""
	if ci.HostConfig != nil {
		policy = string(ci.HostConfig.RestartPolicy.Name)
	}
	switch {
	case st.Restarting:
		return serviceState{state: fmt.Sprintf("restarting (last exit code %d)", st.ExitCode), bad: true}
	case st.Running && health == container.Unhealthy:
		return serviceState{state: "unhealthy", bad: true}
	case st.Running && health == container.Starting:
		return serviceState{state: "starting"}
	case st.Running:
		return serviceState{state: "up"}
	case st.Status == "exited" && st.ExitCode == 0 && (policy == "" || policy == "no" || policy == "on-failure"):
		return serviceState{state: "finished"}
	case st.Status == "exited" && st.ExitCode != 0:
		return serviceState{state: fmt.Sprintf("exited with code %d", st.ExitCode), bad: true}
	case st.Status == "exited":
		return serviceState{state: "stopped"}
	}
	return serviceState{state: st.Status}
}
