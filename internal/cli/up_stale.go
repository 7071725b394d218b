package cli

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/docker/docker/client"

	"github.com/claire-de-binare/cdb-setup/internal/rotate"
	"github.com/claire-de-binare/cdb-setup/internal/stack"
	"github.com/claire-de-binare/cdb-setup/internal/step"
)

// staleStep removes the running containers whose secret file changed after
// they were created and that read it only at start, so up's start
// recreates exactly these (compose keeps a container whose secret file's
// content changed: issue 12, observation 3). Their volumes stay.
type staleStep struct {
	ls      *loadedStack
	compose *stack.Compose
	api     *client.Client

	services []string
	why      map[string][]string
}

func (s *staleStep) ID() string { return "stack.recreate-stale" }

func (s *staleStep) Plan(ctx context.Context) (step.Change, error) {
	s.services, s.why = staleServices(ctx, s.ls, s.api)
	c := step.Change{Step: s.ID(), Targets: s.services}
	if len(s.services) == 0 {
		c.None, c.Summary = true, "no running container reads a secret file that changed after it was created"
		return c, nil
	}
	var parts []string
	for _, svc := range s.services {
		parts = append(parts, fmt.Sprintf("%s (%s changed after it was created; read only at start)", svc, strings.Join(s.why[svc], ", ")))
	}
	c.Summary = "recreate " + strings.Join(parts, ", ")
	return c, nil
}

func (s *staleStep) Apply(ctx context.Context) (step.Result, error) {
	if len(s.services) == 0 {
		return step.Result{Step: s.ID(), Status: step.StatusDone, Detail: "no container reads a changed secret file"}, nil
	}
	if _, err := s.compose.Run(ctx, s.ls.Inv, nil, append([]string{"rm", "--stop", "--force"}, s.services...)...); err != nil {
		return step.Failed(s.ID(), err, ""), nil
	}
	var lines []string
	for _, svc := range s.services {
		lines = append(lines, fmt.Sprintf("Recreating %s: %s changed after the container was created, and it reads it only at start.", svc, strings.Join(s.why[svc], ", ")))
	}
	return step.Result{Step: s.ID(), Status: step.StatusChanged, Detail: strings.Join(lines, " "), Fields: map[string]any{"services": s.services}}, nil
}

// staleServices are the running services that must be recreated to read
// their secret files (rotate.Stale); none when the Engine cannot tell.
func staleServices(ctx context.Context, ls *loadedStack, api *client.Client) ([]string, map[string][]string) {
	if api == nil {
		return nil, nil
	}
	running, err := rotate.Running(ctx, api, ls.Inv.Project)
	if err != nil || len(running) == 0 {
		return nil, nil
	}
	var paths []string
	keptIn := map[string]string{}
	for _, u := range ls.secretFiles() {
		paths = append(paths, u.Path)
		if sec, ok := ls.Catalogue.Get(u.Name); ok && sec.Policy.Volume != "" {
			keptIn[filepath.Clean(u.Path)] = volumeName(ls, sec.Policy.Volume)
		}
	}
	return rotate.Stale(running, paths, keptIn)
}

// loginSecret is the secret a functional login check used.
func loginSecret(ls *loadedStack, c stack.CheckResult) (string, bool) {
	for _, m := range ls.Manifest.Checks {
		if c.ID == "functional."+m.Kind && c.Service == m.Service {
			return m.Secret, true
		}
	}
	return "", false
}
