package stack

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/volume"

	"github.com/claire-de-binare/cdb-setup/internal/step"
)

// VolumeAPI is what the down and recreate-volume steps ask the Engine: what
// exists (to plan) and deleting one volume. *client.Client implements it.
type VolumeAPI interface {
	ContainerList(ctx context.Context, options container.ListOptions) ([]container.Summary, error)
	NetworkList(ctx context.Context, options network.ListOptions) ([]network.Summary, error)
	VolumeList(ctx context.Context, options volume.ListOptions) (volume.ListResponse, error)
	VolumeInspect(ctx context.Context, volumeID string) (volume.Volume, error)
	VolumeRemove(ctx context.Context, volumeID string, force bool) error
}

// containerNames are the Engine's names of cs (without the leading /).
func containerNames(cs []container.Summary) []string {
	var out []string
	for _, c := range cs {
		name := c.ID[:min(12, len(c.ID))]
		if len(c.Names) > 0 {
			name = strings.TrimPrefix(c.Names[0], "/")
		}
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}

func orNone(list []string) string {
	if len(list) == 0 {
		return "none"
	}
	return strings.Join(list, ", ")
}

// DownStep is `cdb-setup down`: compose down for the project, with
// --volumes when Volumes. Its plan names every container, network and (with
// Volumes) volume that goes, as the Engine names them.
type DownStep struct {
	API     VolumeAPI
	Compose Compose
	Inv     Invocation
	// Volumes also deletes the project's volumes and their data.
	Volumes bool
	// Log receives compose's output (nil: kept for the error only).
	Log io.Writer

	containers, networks []string
	volumes              []volume.Volume
}

func (d *DownStep) ID() string { return "stack.down" }

// TalksWhileApplying: with a Log (--verbose) compose's own output shows
// the progress.
func (d *DownStep) TalksWhileApplying() bool { return d.Log != nil }

func (d *DownStep) sub() []string {
	if d.Volumes {
		return []string{"down", "--volumes"}
	}
	return []string{"down"}
}

// PlannedVolumes are the volumes the plan deletes (with Volumes), for the
// confirmation.
func (d *DownStep) PlannedVolumes() []volume.Volume { return d.volumes }

func (d *DownStep) Plan(ctx context.Context) (step.Change, error) {
	byProject := filters.NewArgs(filters.Arg("label", LabelProject+"="+d.Inv.Project))
	cs, err := d.API.ContainerList(ctx, container.ListOptions{All: true, Filters: byProject})
	if err != nil {
		return step.Change{}, fmt.Errorf("list the containers of %s: %w", d.Inv.Project, err)
	}
	d.containers = containerNames(cs)
	ns, err := d.API.NetworkList(ctx, network.ListOptions{Filters: byProject})
	if err != nil {
		return step.Change{}, fmt.Errorf("list the networks of %s: %w", d.Inv.Project, err)
	}
	d.networks = nil
	for _, n := range ns {
		d.networks = append(d.networks, n.Name)
	}
	sort.Strings(d.networks)
	d.volumes = nil
	if d.Volumes {
		vs, err := d.API.VolumeList(ctx, volume.ListOptions{Filters: byProject})
		if err != nil {
			return step.Change{}, fmt.Errorf("list the volumes of %s: %w", d.Inv.Project, err)
		}
		for _, v := range vs.Volumes {
			if v != nil {
				d.volumes = append(d.volumes, *v)
			}
		}
		sort.Slice(d.volumes, func(i, j int) bool { return d.volumes[i].Name < d.volumes[j].Name })
	}
	c := step.Change{Step: d.ID()}
	for _, n := range d.containers {
		c.Targets = append(c.Targets, "container "+n)
	}
	for _, n := range d.networks {
		c.Targets = append(c.Targets, "network "+n)
	}
	for _, v := range d.volumes {
		c.Targets = append(c.Targets, "volume "+v.Name)
	}
	if len(c.Targets) == 0 {
		c.None = true
		c.Summary = fmt.Sprintf("stack %s is not running: nothing for %s to stop or delete", d.Inv.Project, d.Compose.CommandLine(d.Inv, d.sub()...))
		return c, nil
	}
	c.Summary = fmt.Sprintf("%s: stop and remove the containers (%s) and networks (%s) of %s", d.Compose.CommandLine(d.Inv, d.sub()...),
		orNone(d.containers), orNone(d.networks), d.Inv.Project)
	if len(d.volumes) > 0 {
		var names []string
		for _, v := range d.volumes {
			names = append(names, v.Name)
		}
		c.Summary += fmt.Sprintf("; delete the volume(s) %s and every byte in them", strings.Join(names, ", "))
	} else if !d.Volumes {
		c.Summary += "; volumes are kept"
	}
	return c, nil
}

func (d *DownStep) Apply(ctx context.Context) (step.Result, error) {
	if len(d.containers)+len(d.networks)+len(d.volumes) == 0 {
		return step.Result{Step: d.ID(), Status: step.StatusDone, Detail: fmt.Sprintf("stack %s is not running: nothing to stop", d.Inv.Project),
			Fields: map[string]any{"containers": 0}}, nil
	}
	if _, err := d.Compose.Run(ctx, d.Inv, d.Log, d.sub()...); err != nil {
		return step.Failed(d.ID(), err, "run it again: cdb-setup down (compose's output above says what failed)"), err
	}
	var names []string
	for _, v := range d.volumes {
		names = append(names, v.Name)
	}
	detail := fmt.Sprintf("stack %s stopped and removed; volumes kept (`cdb-setup down --volumes` deletes them)", d.Inv.Project)
	if d.Volumes {
		detail = fmt.Sprintf("stack %s stopped and removed, %d volume(s) deleted", d.Inv.Project, len(d.volumes))
	}
	return step.Result{Step: d.ID(), Status: step.StatusChanged, Detail: detail,
		Fields: map[string]any{"containers": d.containers, "networks": d.networks, "volumes_deleted": names}}, nil
}

// RecreateVolumeStep deletes one compose volume and its data so the next
// start initialises it again with the current secrets: the containers using
// it are stopped and removed first (the Engine refuses to delete a volume in
// use). Only this volume; never `down -v`.
type RecreateVolumeStep struct {
	API     VolumeAPI
	Compose Compose
	Inv     Invocation
	// Name is the volume as the Engine names it (cdb_postgres_data).
	Name string
	// Loses says what is in it, for the plan ("the data of postgres and the
	// password it was initialised with (POSTGRES_PASSWORD)").
	Loses string

	exists   bool
	services []string
	using    []string
}

func (r *RecreateVolumeStep) ID() string { return "stack.recreate-volume." + r.Name }

func (r *RecreateVolumeStep) Plan(ctx context.Context) (step.Change, error) {
	c := step.Change{Step: r.ID()}
	if _, err := r.API.VolumeInspect(ctx, r.Name); errdefs.IsNotFound(err) {
		r.exists = false
		c.None = true
		c.Summary = fmt.Sprintf("volume %s does not exist: nothing to delete (the next start creates it)", r.Name)
		return c, nil
	} else if err != nil {
		return c, fmt.Errorf("inspect volume %s: %w", r.Name, err)
	}
	r.exists = true
	list, err := r.API.ContainerList(ctx, container.ListOptions{All: true, Filters: filters.NewArgs(filters.Arg("volume", r.Name))})
	if err != nil {
		return c, fmt.Errorf("find the containers using %s: %w", r.Name, err)
	}
	r.using = containerNames(list)
	r.services = nil
	for _, ct := range list {
		if s := ct.Labels[LabelService]; s != "" && ct.Labels[LabelProject] == r.Inv.Project {
			r.services = append(r.services, s)
		}
	}
	for _, n := range r.using {
		c.Targets = append(c.Targets, "container "+n)
	}
	c.Targets = append(c.Targets, "volume "+r.Name)
	c.Summary = "delete volume " + r.Name + " and all data in it"
	if r.Loses != "" {
		c.Summary += " (" + r.Loses + ")"
	}
	if len(r.using) > 0 {
		c.Summary += "; first stop and remove the container(s) using it: " + strings.Join(r.using, ", ")
	}
	return c, nil
}

func (r *RecreateVolumeStep) Apply(ctx context.Context) (step.Result, error) {
	if !r.exists {
		return step.Result{Step: r.ID(), Status: step.StatusDone, Detail: fmt.Sprintf("volume %s does not exist: nothing to delete", r.Name)}, nil
	}
	if len(r.services) > 0 {
		if _, err := r.Compose.Run(ctx, r.Inv, nil, append([]string{"rm", "--stop", "--force"}, r.services...)...); err != nil {
			return step.Failed(r.ID(), err, ""), err
		}
	}
	if err := r.API.VolumeRemove(ctx, r.Name, false); err != nil && !errdefs.IsNotFound(err) {
		err = fmt.Errorf("delete volume %s: %w", r.Name, err)
		return step.Failed(r.ID(), err, "docker ps -a --filter volume="+r.Name+" lists what still uses it"), err
	}
	return step.Result{Step: r.ID(), Status: step.StatusChanged, Detail: "deleted volume " + r.Name,
		Fields: map[string]any{"volume": r.Name, "containers_removed": r.using}}, nil
}
