package cli

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/claire-de-binare/cdb-setup/internal/checks"
	"github.com/claire-de-binare/cdb-setup/internal/exitcode"
	"github.com/claire-de-binare/cdb-setup/internal/stack"
)

// upPreflight runs up's checks before anything starts and prints them; an
// error (exit 1, or 3 when the environment is missing) means nothing was
// started. The Engine client it opened is returned even then (to close).
func upPreflight(f *Factory, opts *UpOptions, ls *loadedStack, rep *upReport, rerun string) (*checks.Engine, *stack.Compose, error) {
	w := f.IO.ErrOut
	facts := ls.Facts
	compose := &stack.Compose{}
	engine := &checks.Engine{}
	pf := &checks.Preflight{Env: f.Env, Home: facts.Home, GOOS: facts.OS, Engine: engine, Compose: compose,
		Project: ls.Inv.Project, Ports: ls.Model.Ports(ls.Project), Build: opts.Build, Rerun: rerun, Volumes: ls.Model.Volumes}
	for _, f := range ls.Files {
		pf.ComposeFiles = append(pf.ComposeFiles, repoPath(ls.Repo, f))
	}
	pf.ComposeDir = filepath.Dir(pf.ComposeFiles[0])
	pf.SecretNames, pf.SecretsDir = ls.Catalogue.Names(), ls.SecretsDir
	// Volume fingerprints live next to the state; without a state folder
	// volumes.secrets says "unknown" rather than guess.
	pf.StateDir = ls.StateDir
	pf.Logins = ls.Manifest.Checks
	opts.pf = pf
	for _, v := range opts.RecreateVolumes {
		pf.Recreate = append(pf.Recreate, volumeName(ls, v))
	}
	for _, u := range ls.secretFiles() {
		sec, _ := ls.Catalogue.Get(u.Name)
		pf.Secrets = append(pf.Secrets, checks.SecretFile{Name: u.Name, Path: u.Path, Services: u.Services, Policy: sec.Policy})
	}
	if ls.TLS != nil {
		pf.TLSDir, pf.TLSLeaves = ls.TLS.CertDir, ls.TLS.Leaves
	}
	for _, name := range ls.Model.Start {
		sf := ls.Model.Services[name]
		pf.Images = append(pf.Images, checks.Image{Service: name, Name: sf.Image, HasBuild: sf.HasBuild})
	}
	printWrapped(w, "  ", "Preflight for %s (%s, project %s):", strings.Join(ls.Files, " + "), ls.ManifestSource, ls.Inv.Project)
	// Independent checks at the same time (the Engine round trips, Compose's
	// version, the files); the lines print in their fixed order.
	rep.Preflight = checks.RunConcurrently(f.ctx(), pf.Checks(), func(o checks.Outcome) { printCheck(w, o) })
	if compose.Argv != nil {
		rep.Compose = compose
	}
	if f.ctx().Err() != nil {
		rep.Interrupted = true
		return engine, compose, SilentError(exitcode.Interrupted)
	}
	if failed, missing := checks.Failed(rep.Preflight); failed {
		code := exitcode.Failed
		if missing {
			code = exitcode.Environment
		}
		fmt.Fprintln(w, "✗ Preflight failed: nothing was started.")
		return engine, compose, explained(code, preflightError(rep.Preflight))
	}
	return engine, compose, nil
}
