package cli

import (
	"context"
	"fmt"
	"maps"
	"strings"

	"github.com/claire-de-binare/cdb-setup/internal/stack"
)

// droppedFiles is a warning when the project's containers were created
// from compose files this selection leaves out (compose's config_files
// label): up converges the stack to the files given, so those services are
// recreated without them. A redis started with --overlay tls comes back
// without TLS after a plain `cdb-setup up`. It says how to keep them; ""
// when nothing is left out or the Engine cannot tell.
func droppedFiles(ctx context.Context, f *Factory, ls *loadedStack, api stack.ContainerLister) string {
	list, err := stack.ProjectContainers(ctx, api, ls.Inv.Project)
	if err != nil {
		return ""
	}
	have := map[string]bool{}
	for _, c := range list {
		if files := c.Labels[stack.LabelConfigFiles]; files != "" && c.Labels[stack.LabelOneOff] != "True" {
			maps.Copy(have, fileSet(strings.Split(files, ",")))
		}
	}
	names := onlyIn(have, fileSet(ls.Inv.AbsFiles()))
	if len(names) == 0 {
		return ""
	}
	msg := fmt.Sprintf("the running stack was started with %s too; this up recreates its services without %s", strings.Join(names, ", "), map[bool]string{true: "it", false: "them"}[len(names) == 1])
	if sel, ok := selectionOf(ls, have); ok {
		msg += fmt.Sprintf(" (to keep the stack as it runs: %s)", rerunCommand(f, "up", sel))
	}
	return msg
}
