package cli

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"

	"github.com/claire-de-binare/cdb-setup/internal/stack"
)

// containerLister is the part of the Engine client droppedFiles needs.
type containerLister interface {
	ContainerList(ctx context.Context, options container.ListOptions) ([]container.Summary, error)
}

// droppedFiles is a warning when the project's containers were created
// from compose files this selection leaves out (compose's config_files
// label): up converges the stack to the files given, so those services are
// recreated without them. A redis started with --overlay tls comes back
// without TLS after a plain `cdb-setup up`. It says how to keep them; ""
// when nothing is left out or the Engine cannot tell.
func droppedFiles(ctx context.Context, f *Factory, ls *loadedStack, api containerLister) string {
	list, err := api.ContainerList(ctx, container.ListOptions{All: true, Filters: filters.NewArgs(filters.Arg("label", stack.LabelProject+"="+ls.Inv.Project))})
	if err != nil {
		return ""
	}
	want := fileSet(ls.Inv.AbsFiles())
	have := map[string]bool{}
	dropped := map[string]bool{}
	for _, c := range list {
		files := c.Labels[stack.LabelConfigFiles]
		if files == "" || c.Labels[stack.LabelOneOff] == "True" {
			continue
		}
		for f := range fileSet(strings.Split(files, ",")) {
			have[f] = true
			if !want[f] {
				dropped[f] = true
			}
		}
	}
	if len(dropped) == 0 {
		return ""
	}
	names := make([]string, 0, len(dropped))
	for f := range dropped {
		names = append(names, f)
	}
	sort.Strings(names)
	msg := fmt.Sprintf("the running stack was started with %s too; this up recreates its services without %s", strings.Join(names, ", "), map[bool]string{true: "it", false: "them"}[len(names) == 1])
	if sel, ok := selectionOf(ls, have); ok {
		msg += fmt.Sprintf(" (to keep the stack as it runs: %s)", rerunCommand(f, "up", sel))
	}
	return msg
}
