package stack

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/client"
)

// Compose's labels that say what a container was created from.
const (
	LabelConfigHash = "com.docker.compose.config-hash"
	LabelImage      = "com.docker.compose.image"
)

// UpToDateAPI is the part of the Engine client UpToDate reads.
type UpToDateAPI interface {
	ContainerList(ctx context.Context, options container.ListOptions) ([]container.Summary, error)
	ContainerInspect(ctx context.Context, containerID string) (container.InspectResponse, error)
	ImageInspect(ctx context.Context, imageID string, opts ...client.ImageInspectOption) (image.InspectResponse, error)
	NetworkList(ctx context.Context, options network.ListOptions) ([]network.Summary, error)
}

// Wanted is what `compose up` would run for one service: its config hash
// (`compose config --hash`, the value compose labels its container with)
// and its image reference.
type Wanted struct {
	ConfigHash string
	Image      string
}

// UpToDate reports whether `compose up` would leave every service in want
// as it is: exactly one container each, ready (healthy, running without a
// healthcheck, or a one-shot that finished with exit 0), created from the
// same configuration (config hash) and the same image as the tag names now,
// and attached only to networks that still exist. These are compose's own
// reasons to recreate a container (its convergence's mustRecreate), so a
// re-run on an up-to-date stack can skip compose entirely and change
// nothing. why names the first service that is not up to date.
func UpToDate(ctx context.Context, api UpToDateAPI, project string, want map[string]Wanted) (ok bool, why string, err error) {
	list, err := ProjectContainers(ctx, api, project)
	if err != nil {
		return false, "", fmt.Errorf("list the containers of %s: %w", project, err)
	}
	nets, err := api.NetworkList(ctx, network.ListOptions{})
	if err != nil {
		return false, "", fmt.Errorf("list the networks: %w", err)
	}
	netIDs := map[string]bool{}
	for _, n := range nets {
		netIDs[n.ID] = true
	}
	byService := map[string][]container.Summary{}
	for _, c := range list {
		if c.Labels[LabelOneOff] == "True" {
			continue
		}
		byService[c.Labels[LabelService]] = append(byService[c.Labels[LabelService]], c)
	}
	imageIDs := map[string]string{}
	names := make([]string, 0, len(want))
	for s := range want {
		names = append(names, s)
	}
	sort.Strings(names)
	for _, svc := range names {
		w := want[svc]
		cs := byService[svc]
		switch {
		case len(cs) == 0:
			return false, svc + " has no container", nil
		case len(cs) > 1:
			return false, fmt.Sprintf("%s has %d containers", svc, len(cs)), nil
		}
		c := cs[0]
		if w.ConfigHash == "" || c.Labels[LabelConfigHash] != w.ConfigHash {
			return false, svc + "'s configuration changed", nil
		}
		id, seen := imageIDs[w.Image]
		if !seen {
			im, err := api.ImageInspect(ctx, w.Image)
			if err == nil {
				id = im.ID
			}
			imageIDs[w.Image] = id
		}
		if id == "" || c.Labels[LabelImage] != id {
			return false, svc + "'s image " + w.Image + " changed (or is missing)", nil
		}
		if c.NetworkSettings != nil {
			for name, n := range c.NetworkSettings.Networks {
				if n != nil && n.NetworkID != "" && !netIDs[n.NetworkID] {
					return false, svc + "'s network " + name + " was removed", nil
				}
			}
		}
		ci, err := api.ContainerInspect(ctx, c.ID)
		if err != nil {
			return false, "", fmt.Errorf("inspect %s: %w", svc, err)
		}
		if !readyNow(ci) {
			return false, svc + " is not running and healthy", nil
		}
	}
	return len(want) > 0, "", nil
}

// readyNow is ServiceSnapshot's verdict for one container.
func readyNow(ci container.InspectResponse) bool {
	st := ci.State
	if st == nil {
		return false
	}
	if finishedOneShot(ci) {
		return true
	}
	return st.Running && !st.Restarting && !st.Paused && (st.Health == nil || st.Health.Status == "" || st.Health.Status == container.NoHealthcheck || st.Health.Status == container.Healthy)
}

// ParseConfigHashes reads `compose config --hash '*'`: one "service hash"
// line per service.
func ParseConfigHashes(out string) map[string]string {
	m := map[string]string{}
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) == 2 && len(f[1]) == 64 {
			m[f[0]] = f[1]
		}
	}
	return m
}
