package cli

import (
	"context"
	"fmt"
	"io"
	"path"
	"path/filepath"
	"strings"

	"github.com/claire-de-binare/cdb-setup/internal/composefile"
	"github.com/claire-de-binare/cdb-setup/internal/exitcode"
	"github.com/claire-de-binare/cdb-setup/internal/manifest"
	"github.com/claire-de-binare/cdb-setup/internal/secrets"
	"github.com/claire-de-binare/cdb-setup/internal/tlscert"
	"github.com/claire-de-binare/cdb-setup/internal/tlsoverlay"
	"github.com/claire-de-binare/cdb-setup/internal/workspace"
)

// tlsStack is what --overlay tls adds to a loaded stack: where the certificates
// are, which certificates the services need, and cdb-setup's overlay.
type tlsStack struct {
	CertDir         string
	Leaves          []tlscert.Leaf
	Overlay         *tlsoverlay.Overlay
	Postgres, Redis string
}

// tlsServers names the TLS servers from the manifest's login checks: the
// postgres-login service gets postgres.crt, the redis-auth one redis.crt
// (the names CDB's tls.yml mounts).
func tlsServers(m *manifest.Manifest) (pg, rd string) {
	for _, c := range m.Checks {
		switch c.Kind {
		case "postgres-login":
			if pg == "" {
				pg = c.Service
			}
		case "redis-auth":
			if rd == "" {
				rd = c.Service
			}
		}
	}
	return pg, rd
}

// tlsOverlayDir is where the overlay of a project is written: next to
// cdb-setup's state, never in the repo.
func tlsOverlayDir(ws *workspace.Workspace) string {
	return filepath.Join(ws.StateDir, "tls", ws.Project)
}

// withTLSOverlay builds cdb-setup's overlay from the model of the repo's
// files (tls.yml included), adds it after them and reads the model again.
func withTLSOverlay(ctx context.Context, ws *workspace.Workspace, files []string, env map[string]string, cat *secrets.Catalogue, loaded *composefile.Loaded) (st *tlsStack, _ []string, _ *composefile.Loaded, err error) {
	if ws.StateDirErr != nil {
		return nil, nil, nil, exitcode.New(exitcode.Environment, fmt.Errorf("--overlay tls: cdb-setup writes its TLS overlay next to its state, and the state folder is unknown: %v", ws.StateDirErr))
	}
	m := ws.Manifest
	repoDir := filepath.FromSlash(m.TLS.Dir)
	if !filepath.IsAbs(repoDir) {
		repoDir = filepath.Join(ws.Repo, repoDir)
	}
	// The model without the TLS overlay's files tells the overlay which
	// mounts tls.yml added.
	var base *composefile.Loaded
	if without := withoutFiles(files, m.Overlays["tls"], m.ComposeDir); len(without) > 0 && len(without) < len(files) {
		if base, err = composefile.Load(ctx, composefile.Options{Repo: ws.Repo, Files: without, Env: env, ProjectName: ws.Project}); err != nil {
			return nil, nil, nil, err
		}
	}
	st = &tlsStack{CertDir: tlscert.Dir(ws.SecretsDir)}
	st.Postgres, st.Redis = tlsServers(m)
	st.Leaves = tlsoverlay.Leaves(loaded.Project, st.Postgres, st.Redis)
	opts := tlsoverlay.Options{Project: loaded.Project, RepoTLSDir: filepath.Clean(repoDir), CertDir: st.CertDir,
		OutDir: tlsOverlayDir(ws), Postgres: st.Postgres, Redis: st.Redis, Secrets: cat.Names()}
	if base != nil {
		opts.Base = base.Project
	}
	ov, err := tlsoverlay.Build(opts)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("write cdb-setup's TLS overlay: %w", err)
	}
	st.Overlay = ov
	files = append(files[:len(files):len(files)], filepath.ToSlash(ov.Path))
	again, err := composefile.Load(ctx, composefile.Options{Repo: ws.Repo, Files: files, Env: env, ProjectName: ws.Project})
	if err != nil {
		return nil, nil, nil, fmt.Errorf("cdb-setup's TLS overlay %s: %w", ov.Path, err)
	}
	return st, files, again, nil
}

// repoPath is a compose file's absolute path: relative ones are in the
// repo; cdb-setup's generated overlay is already absolute.
func repoPath(repo, f string) string {
	p := filepath.FromSlash(f)
	if filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(repo, p)
}

// printTLSOverlay shows cdb-setup's overlay for --dry-run: what it fixes,
// then the file itself.
func printTLSOverlay(w io.Writer, ls *loadedStack) {
	ov := ls.TLS.Overlay
	fmt.Fprintf(w, "cdb-setup's TLS overlay %s (added last; docs/tls.md says why):\n", ov.Path)
	for _, fix := range ov.Fixes {
		fmt.Fprintf(w, "  - %s\n", fix)
	}
	for _, line := range strings.Split(strings.TrimRight(string(ov.YAML), "\n"), "\n") {
		fmt.Fprintf(w, "    %s\n", line)
	}
}

// withoutFiles is files minus the overlay's (named relative to the compose
// folder, as the manifest lists them).
func withoutFiles(files, overlay []string, composeDir string) []string {
	drop := map[string]bool{}
	for _, o := range overlay {
		drop[path.Join(composeDir, o)] = true
	}
	var out []string
	for _, f := range files {
		if !drop[f] {
			out = append(out, f)
		}
	}
	return out
}
