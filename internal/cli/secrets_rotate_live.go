package cli

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	cerrdefs "github.com/containerd/errdefs"

	"github.com/claire-de-binare/cdb-setup/internal/manifest"
	"github.com/claire-de-binare/cdb-setup/internal/rekey"
	"github.com/claire-de-binare/cdb-setup/internal/rotate"
	"github.com/claire-de-binare/cdb-setup/internal/secrets"
	"github.com/claire-de-binare/cdb-setup/internal/stack"
	"github.com/claire-de-binare/cdb-setup/internal/step"
	"github.com/claire-de-binare/cdb-setup/internal/volpass"
)

// liveRotation is what `secrets rotate` found about the running stack.
type liveRotation struct {
	// Steps rotate the secret inside the running services (nil: the stack
	// does not run, or runs nothing that reads the secret).
	Steps []step.Step
	// VolumeExists: the volume keeping the secret's password exists (so a
	// file-only rotation would lock its service out).
	VolumeExists bool
	// Reachable: the Engine answered.
	Reachable bool
	close     func()
}

// planLiveRotation looks at the project's running containers and builds the
// in-service rotation of s: postgres and Grafana re-keyed inside, services
// that read the secret only at start recreated, a login to prove it.
func planLiveRotation(f *Factory, sc *secretsContext, opts *SecretsRotateOptions, s secrets.Secret) (*liveRotation, error) {
	ctx := f.ctx()
	lr := &liveRotation{close: func() {}}
	api, _, err := stack.Connect(ctx, f.Env, sc.Facts.Home, sc.Facts.OS)
	if err != nil {
		return lr, nil // no Engine: nothing runs here
	}
	lr.Reachable, lr.close = true, func() { api.Close() }
	ls, err := loadStack(f, selectionStack(opts.Selection))
	if err != nil {
		return nil, err
	}
	project := ls.Inv.Project
	vol := ""
	if s.Policy.Volume != "" {
		vol = volumeName(ls, s.Policy.Volume)
		if _, err := api.VolumeInspect(ctx, vol); err == nil {
			lr.VolumeExists = true
		} else if !cerrdefs.IsNotFound(err) {
			return nil, fmt.Errorf("look up the volume %s: %w", vol, err)
		}
	}
	running, err := rotate.Running(ctx, api, project)
	if err != nil {
		return nil, fmt.Errorf("list the running containers of %s: %w", project, err)
	}
	// The files this rotation changes: the secret and what derives from it.
	paths := []string{s.Path}
	files := map[string][]byte{}
	for _, d := range sc.Catalogue.Secrets {
		if d.Policy.Kind != manifest.KindDerived {
			continue
		}
		if deps, err := secrets.Dependencies(d.Policy.Template); err == nil && slices.Contains(deps, s.Name) {
			paths = append(paths, d.Path)
		}
	}
	for _, p := range paths {
		b, err := secrets.ReadSecret(p)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, err
		}
		files[p] = b
	}
	old := files[s.Path]
	keptIn := map[string]string{}
	if vol != "" {
		keptIn[filepath.Clean(s.Path)] = vol
	}
	recreate, inPlace := rotate.Consumers(running, paths, keptIn)
	if len(recreate)+len(inPlace) == 0 {
		return lr, nil
	}
	if len(old) == 0 {
		return nil, step.WithFix(fmt.Errorf("%s is missing or empty while %s run with it", s.Path, strings.Join(append(recreate, inPlace...), ", ")),
			"`cdb-setup secrets recover` brings the password back or re-keys the running services")
	}
	if err := sameComposeFiles(f, ls, running, recreate, s.Name); err != nil {
		return nil, err
	}
	newValue, err := secrets.GenerateFor(s.Policy)
	if err != nil {
		return nil, err
	}
	o := rotate.Options{Name: s.Name, New: newValue, Old: old, Files: files, Mode: sc.Options.Mode, Recreate: recreate}
	containerOf := func(svc string) string {
		return runningService(running, svc).ID
	}
	var handled []string
	for _, c := range ls.Manifest.Checks {
		if c.Secret != s.Name {
			continue
		}
		id := containerOf(c.Service)
		if id == "" {
			continue
		}
		switch c.Kind {
		case "postgres-login":
			if slices.Contains(inPlace, c.Service) {
				// Address and the current password: the TCP fallback where
				// the local socket is not trusted (in memory only).
				o.Postgres, o.PostgresService = &rekey.Postgres{API: api, Container: id, User: c.User, Database: c.Database, Address: c.Address, Password: old}, c.Service
				handled = append(handled, c.Service)
			}
		case "http-basic-auth":
			if slices.Contains(inPlace, c.Service) {
				o.Grafana, o.GrafanaService = &rekey.Grafana{API: api, Container: id}, c.Service
				handled = append(handled, c.Service)
			}
		case "redis-auth":
			tls := rekey.RedisTLSFromCommand(runningService(running, c.Service).Command)
			o.Redis, o.RedisService = &rekey.Redis{API: api, Container: id, TLS: tls}, c.Service
		}
	}
	for _, svc := range inPlace {
		if !slices.Contains(handled, svc) {
			return nil, step.WithFix(fmt.Errorf("%s keeps %s in the volume %s, and cdb-setup knows no way to change it inside that service (the manifest has no postgres-login or http-basic-auth check for it)", svc, s.Name, vol),
				fmt.Sprintf("change the password inside %s yourself, then write it to %s; or rotate only the file with `cdb-setup secrets rotate %s --force-volume` (%s then refuses it until changed inside)", svc, s.Path, s.Name, svc))
		}
	}
	compose := &stack.Compose{}
	if c, err := stack.LocateCompose(ctx, f.Env, nil); err == nil {
		*compose = c
	} else if len(recreate) > 0 {
		return nil, fmt.Errorf("%s must be recreated to read the new %s, and Compose was not found: %w", strings.Join(recreate, ", "), s.Name, err)
	}
	o.RecreateFn = func(ctx context.Context, svcs []string) error {
		// --no-deps: nothing else is touched; --wait: healthy before the login.
		_, err := compose.Run(ctx, ls.Inv, nil, append([]string{"up", "-d", "--force-recreate", "--no-deps", "--wait"}, svcs...)...)
		return err
	}
	rerun := rerunCommand(f, "up", nil)
	o.Prove = func(ctx context.Context) error {
		var bad []string
		for _, c := range ls.Manifest.Checks {
			if c.Secret != s.Name || containerOf(c.Service) == "" {
				continue
			}
			r := runLoginCheck(ctx, sc.SecretsDir, c, runningService(running, c.Service).Command, s.Path, rerun, vol, 0)
			if !r.OK && !r.Skipped {
				bad = append(bad, r.Detail)
			}
		}
		if len(bad) > 0 {
			return errors.New(strings.Join(bad, "; "))
		}
		return nil
	}
	if vol != "" {
		if dir := sc.StateDir; dir != "" {
			o.Record = func(ctx context.Context) error {
				info, err := api.Info(ctx)
				if err != nil {
					return err
				}
				book, err := volpass.Open(dir)
				if err != nil {
					return err
				}
				return book.Record(volpass.Entry{EngineID: info.ID, Volume: vol, Secret: s.Name, How: "re-keyed by cdb-setup secrets rotate"}, newValue)
			}
		}
	}
	fileSteps, err := secrets.RotateSteps(secrets.RotateOptions{Options: sc.Options, Name: s.Name, InService: true, Value: newValue})
	if err != nil {
		return nil, err
	}
	o.FileSteps = fileSteps
	lr.Steps = rotate.Steps(o)
	return lr, nil
}

// runningService is the running container of svc (zero when none runs).
func runningService(running []rotate.Container, svc string) rotate.Container {
	for _, c := range running {
		if c.Service == svc {
			return c
		}
	}
	return rotate.Container{}
}

// sameComposeFiles refuses to recreate a service from other compose files
// than its running container was created from (compose's config_files
// label): that would change more than a password. A redis started with
// --overlay tls, recreated by a rotate without it, would come back without
// TLS. The fix names the selection that reproduces the running files.
func sameComposeFiles(f *Factory, ls *loadedStack, running []rotate.Container, services []string, name string) error {
	want := fileSet(ls.Inv.AbsFiles())
	for _, svc := range services {
		c := runningService(running, svc)
		if len(c.ConfigFiles) == 0 {
			continue // made without compose's label: nothing to compare with
		}
		have := fileSet(c.ConfigFiles)
		if maps.Equal(have, want) {
			continue
		}
		onlyRunning, onlySelected := onlyIn(have, want), onlyIn(want, have)
		var diff []string
		if len(onlyRunning) > 0 {
			diff = append(diff, "it was started with "+strings.Join(onlyRunning, ", "))
		}
		if len(onlySelected) > 0 {
			diff = append(diff, "not with "+strings.Join(onlySelected, ", "))
		}
		err := fmt.Errorf("%s must be recreated to read the new %s, but this command selects other compose files than it runs from (%s): recreating it would change more than the password", svc, name, strings.Join(diff, "; "))
		if sel, ok := selectionOf(ls, have); ok {
			return step.WithFix(err, rerunCommand(f, "secrets rotate", append([]string{name}, sel...)))
		}
		return step.WithFix(err, "run `"+rerunCommand(f, "secrets rotate", []string{name})+"` with the --profile and --overlay the stack was started with")
	}
	return nil
}

// selectionOf finds the --profile/--overlay flags whose files are exactly
// the manifest's files in have; files cdb-setup generates in its state
// folder (the TLS overlay) follow from the overlays. Any other file in have
// is one no selection gives: false.
func selectionOf(ls *loadedStack, have map[string]bool) ([]string, bool) {
	abs := func(files []string) map[string]bool { // files relative to the repo
		return fileSet(stack.Invocation{Repo: ls.Repo, Files: files}.AbsFiles())
	}
	listed := func(files []string) map[string]bool { // files of a profile or overlay
		var rel []string
		for _, f := range files {
			rel = append(rel, path.Join(ls.Manifest.ComposeDir, f))
		}
		return abs(rel)
	}
	known := map[string]bool{}
	for _, files := range ls.Manifest.Profiles {
		maps.Copy(known, listed(files))
	}
	for _, files := range ls.Manifest.Overlays {
		maps.Copy(known, listed(files))
	}
	stateDir := ls.StateDir
	if r, err := filepath.EvalSymlinks(stateDir); err == nil {
		stateDir = r
	}
	target := map[string]bool{}
	for f := range have {
		switch rel, err := filepath.Rel(stateDir, f); {
		case known[f]:
			target[f] = true
		case stateDir != "" && err == nil && !strings.HasPrefix(rel, ".."):
			// generated by cdb-setup for an overlay
		default:
			return nil, false
		}
	}
	var overlays []string
	for _, o := range slices.Sorted(maps.Keys(ls.Manifest.Overlays)) {
		all := len(ls.Manifest.Overlays[o]) > 0
		for f := range listed(ls.Manifest.Overlays[o]) {
			all = all && target[f]
		}
		if all {
			overlays = append(overlays, o)
		}
	}
	for _, p := range slices.Sorted(maps.Keys(ls.Manifest.Profiles)) {
		files, err := ls.Manifest.ComposeFiles(manifest.Selection{Profile: p, Overlays: overlays})
		if err != nil || !maps.Equal(abs(files), target) {
			continue
		}
		sel := []string{"--profile", p}
		for _, o := range overlays {
			sel = append(sel, "--overlay", o)
		}
		return sel, true
	}
	return nil, false
}

// onlyIn lists, sorted, the paths of a that are not in b.
func onlyIn(a, b map[string]bool) []string {
	var out []string
	for f := range a {
		if !b[f] {
			out = append(out, f)
		}
	}
	sort.Strings(out)
	return out
}

// fileSet is a set of absolute paths, symlinks resolved where the file
// exists: the same clone reached through a symlinked folder is the same file.
func fileSet(files []string) map[string]bool {
	out := map[string]bool{}
	for _, f := range files {
		p := filepath.Clean(filepath.FromSlash(f))
		if r, err := filepath.EvalSymlinks(p); err == nil {
			p = r
		}
		out[p] = true
	}
	return out
}
