package rotate

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/mount"

	"github.com/claire-de-binare/cdb-setup/internal/stack"
)

// ContainerAPI is the part of the Docker client Running needs.
type ContainerAPI interface {
	ContainerList(ctx context.Context, options container.ListOptions) ([]container.Summary, error)
	ContainerInspect(ctx context.Context, containerID string) (container.InspectResponse, error)
}

// Container is a running container of the project and what it mounts.
type Container struct {
	ID, Service string
	// Binds are the host paths bind-mounted into it (compose mounts each
	// secret file this way); Volumes the named volumes.
	Binds, Volumes []string
	// Created is when the Engine created the container (a real creation
	// time, unlike a volume's CreatedAt).
	Created time.Time
	// Command is what the container runs: its entrypoint, then its command.
	Command []string
	// ConfigFiles are the compose files it was created from (compose's
	// label; empty when the label is missing).
	ConfigFiles []string
}

// Running lists the project's running containers with their mounts, as the
// Engine reports them (not as the compose files say: a container created
// from older files is what runs).
func Running(ctx context.Context, api ContainerAPI, project string) ([]Container, error) {
	list, err := api.ContainerList(ctx, container.ListOptions{Filters: filters.NewArgs(
		filters.Arg("label", stack.LabelProject+"="+project), filters.Arg("status", "running"))})
	if err != nil {
		return nil, err
	}
	var out []Container
	for _, c := range list {
		ci, err := api.ContainerInspect(ctx, c.ID)
		if err != nil {
			return nil, err
		}
		rc := Container{ID: c.ID, Service: c.Labels[stack.LabelService]}
		rc.Created, _ = time.Parse(time.RFC3339Nano, ci.Created)
		if ci.Config != nil {
			rc.Command = append(append([]string(nil), ci.Config.Entrypoint...), ci.Config.Cmd...)
		}
		if files := c.Labels[stack.LabelConfigFiles]; files != "" {
			rc.ConfigFiles = strings.Split(files, ",")
		}
		for _, m := range ci.Mounts {
			switch m.Type {
			case mount.TypeBind:
				rc.Binds = append(rc.Binds, filepath.Clean(m.Source))
			case mount.TypeVolume:
				rc.Volumes = append(rc.Volumes, m.Name)
			}
		}
		out = append(out, rc)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Service < out[j].Service })
	return out, nil
}

// Mounts reports whether c bind-mounts the host file path.
func (c Container) Mounts(path string) bool {
	path = filepath.Clean(path)
	for _, b := range c.Binds {
		if b == path {
			return true
		}
	}
	return false
}

// HasVolume reports whether c mounts the named volume.
func (c Container) HasVolume(name string) bool {
	for _, v := range c.Volumes {
		if v == name {
			return true
		}
	}
	return false
}

// Consumers are the running containers that mount one of paths, split by
// how they take a new value: keptIn maps a path to the volume that keeps
// its password once initialised (postgres_data for POSTGRES_PASSWORD); a
// container mounting both reads that file only at initialisation, so the
// password must change inside it (inPlace). Every other consumer reads
// the file at start and is recreated (recreate). Each service appears once.
func Consumers(list []Container, paths []string, keptIn map[string]string) (recreate, inPlace []string) {
	for _, c := range list {
		reads, initOnly := false, true
		for _, p := range paths {
			if !c.Mounts(p) {
				continue
			}
			reads = true
			if vol := keptIn[filepath.Clean(p)]; vol == "" || !c.HasVolume(vol) {
				initOnly = false
			}
		}
		switch {
		case !reads:
		case initOnly:
			inPlace = append(inPlace, c.Service)
		default:
			recreate = append(recreate, c.Service)
		}
	}
	return recreate, inPlace
}

// Stale lists the running services that read one of the secret files at
// start and whose file changed after the container was created: they still
// run with the old value (compose does not recreate a container when only
// a secret file's content changed; issue 12, observation 3), so `up`
// recreates exactly these. keptIn is as for Consumers: a container that
// keeps the secret in its volume read it only at initialisation and is
// never recreated for it. why maps each service to the files that changed.
func Stale(list []Container, paths []string, keptIn map[string]string) (services []string, why map[string][]string) {
	why = map[string][]string{}
	for _, c := range list {
		if c.Created.IsZero() {
			continue
		}
		for _, p := range paths {
			if !c.Mounts(p) {
				continue
			}
			if vol := keptIn[filepath.Clean(p)]; vol != "" && c.HasVolume(vol) {
				continue
			}
			st, err := os.Stat(p)
			if err != nil || !st.ModTime().After(c.Created) {
				continue
			}
			if len(why[c.Service]) == 0 {
				services = append(services, c.Service)
			}
			why[c.Service] = append(why[c.Service], filepath.Base(p))
		}
	}
	return services, why
}
