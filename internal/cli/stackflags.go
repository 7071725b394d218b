package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"

	"github.com/claire-de-binare/cdb-setup/internal/composefile"
	"github.com/claire-de-binare/cdb-setup/internal/exitcode"
	"github.com/claire-de-binare/cdb-setup/internal/manifest"
	"github.com/claire-de-binare/cdb-setup/internal/platform"
	"github.com/claire-de-binare/cdb-setup/internal/secrets"
	"github.com/claire-de-binare/cdb-setup/internal/stack"
	"github.com/claire-de-binare/cdb-setup/internal/workspace"
)

// StackFlags are the stack selection flags `up` and `down` share, named
// after stack_up.ps1's switches.
type StackFlags struct {
	Profile          string
	Logging          bool
	StrictHealth     bool
	NetworkIsolation bool
	TLS              bool
}

func (s *StackFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&s.Profile, "profile", "", "compose profile from cdb-setup.yaml (default: the manifest's default, dev for CDB)")
	fl.BoolVar(&s.Logging, "logging", false, "add the logging overlay (alertmanager, loki, promtail)")
	fl.BoolVar(&s.StrictHealth, "strict-health", false, "add the strict healthcheck overlays")
	fl.BoolVar(&s.NetworkIsolation, "network-isolation", false, "add the internal-network overlay")
	fl.BoolVar(&s.TLS, "tls", false, "add the TLS overlay (checks the certificate files first)")
}

// Selection turns the flags into a manifest selection, overlays in the
// order stack_up.ps1 added them.
func (s *StackFlags) Selection() manifest.Selection {
	sel := manifest.Selection{Profile: s.Profile}
	for _, o := range []struct {
		on   bool
		name string
	}{{s.Logging, "logging"}, {s.StrictHealth, "strict-health"}, {s.NetworkIsolation, "network-isolation"}, {s.TLS, "tls"}} {
		if o.on {
			sel.Overlays = append(sel.Overlays, o.name)
		}
	}
	return sel
}

// args renders the flags back for "run this again" fixes.
func (s *StackFlags) args() []string {
	var a []string
	if s.Profile != "" {
		a = append(a, "--profile", s.Profile)
	}
	for _, o := range []struct {
		on   bool
		flag string
	}{{s.Logging, "--logging"}, {s.StrictHealth, "--strict-health"}, {s.NetworkIsolation, "--network-isolation"}, {s.TLS, "--tls"}} {
		if o.on {
			a = append(a, o.flag)
		}
	}
	return a
}

// loadedStack is everything up and down derive from the workspace and the
// flags. The workspace (repo, manifest, secrets folder, project) is
// embedded; Project here is compose's model of the project (the name is
// Workspace.Project, also in Inv.Project).
type loadedStack struct {
	*workspace.Workspace
	Files     []string
	Catalogue *secrets.Catalogue
	Env       map[string]string
	Project   *types.Project
	Targets   []string
	Model     *stack.Model
	Inv       stack.Invocation
	Warnings  []string
}

// loadStack reads the manifest and compose files for the selection. Compose's
// environment is built once here (secrets.ComposeEnv) and used for every
// compose call and for reading the model, so both see the same variables.
func loadStack(f *Factory, sf *StackFlags) (*loadedStack, error) {
	ws, err := f.repoWorkspace()
	if err != nil {
		return nil, err
	}
	repo, m, src, dir := ws.Repo, ws.Manifest, ws.ManifestSource, ws.SecretsDir
	files, err := m.ComposeFiles(sf.Selection())
	if err != nil {
		return nil, exitcode.New(exitcode.Usage, err)
	}
	ctx := f.ctx()
	cat, err := secrets.Discover(ctx, secrets.DiscoverOptions{Repo: repo, Manifest: m, Files: files, Dir: dir, Env: f.Env, CacheDir: f.catalogueCache(ws)})
	if err != nil {
		return nil, err
	}
	env := secrets.ComposeEnv(f.Env, cat.Names(), dir)
	// The workspace's project, passed as -p: compose, the keychain and
	// doctor all use the same name.
	project := ws.Project
	loaded, err := composefile.Load(ctx, composefile.Options{Repo: repo, Files: files, Env: env, ProjectName: project})
	if err != nil {
		return nil, err
	}
	ls := &loadedStack{Workspace: ws, Files: files, Catalogue: cat, Env: env, Project: loaded.Project}
	var secretWarnings []string
	for _, w := range loaded.Warnings {
		// CDB's dev.yml feeds GF_SECURITY_ADMIN_PASSWORD from
		// ${GRAFANA_PASSWORD}; it is blank on purpose (trap 2).
		if m := unsetVarRe.FindStringSubmatch(w); m != nil && isSecretVar(m[1], cat.Names(), dir) {
			w += " (intentional: cdb-setup never passes secret values to compose; the service reads the secret file)"
			secretWarnings = append(secretWarnings, w)
			continue
		}
		ls.Warnings = append(ls.Warnings, w)
	}
	var absent []string
	for _, t := range m.Targets {
		if _, ok := loaded.Project.Services[t]; ok {
			ls.Targets = append(ls.Targets, t)
		} else {
			absent = append(absent, t)
		}
	}
	if len(ls.Targets) == 0 {
		return nil, exitcode.New(exitcode.Failed, fmt.Errorf("none of the target services (%s) is defined by %s: check targets: in %s", strings.Join(m.Targets, ", "), strings.Join(files, ", "), src))
	}
	if len(absent) > 0 {
		ls.Warnings = append(ls.Warnings, fmt.Sprintf("this profile does not define %s; waiting for the other targets", strings.Join(absent, ", ")))
	}
	ls.Model, err = stack.BuildModel(loaded.Project, m, ls.Targets, dir)
	if err != nil {
		return nil, exitcode.New(exitcode.Failed, err)
	}
	ls.Inv = stack.Invocation{Repo: repo, Files: files, Project: project, Env: env}
	// A blank secret-named variable matters only to the services started
	// (no "GRAFANA_PASSWORD is not set" when Grafana is not a target).
	for _, w := range secretWarnings {
		if m := unsetVarRe.FindStringSubmatch(w); m != nil && startedServiceUses(repo, files, ls.Model.Start, m[1]) {
			ls.Warnings = append(ls.Warnings, w)
		}
	}
	return ls, nil
}

// startedServiceUses reports whether one of the started services refers to
// the variable name in the raw compose files (${NAME...} or $NAME). A file
// it cannot read counts as a use: the warning is kept.
func startedServiceUses(repo string, files, started []string, name string) bool {
	ref := regexp.MustCompile(`\$\{?` + regexp.QuoteMeta(name) + `\b`)
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join(repo, filepath.FromSlash(f)))
		if err != nil {
			return true
		}
		var doc struct {
			Services map[string]any `yaml:"services"`
		}
		if yaml.Unmarshal(b, &doc) != nil {
			return true
		}
		for _, svc := range started {
			if body, ok := doc.Services[svc]; ok {
				if out, err := yaml.Marshal(body); err != nil || ref.Match(out) {
					return true
				}
			}
		}
	}
	return false
}

var unsetVarRe = regexp.MustCompile(`The "([^"]+)" variable is not set`)

// isSecretVar reports whether compose's environment leaves name out
// because it is named like a secret.
func isSecretVar(name string, names []string, dir string) bool {
	_, kept := secrets.ComposeEnv(platform.MapEnvironment{name: "x"}, names, dir)[name]
	return !kept
}

// secretFilesOf lists the secret files the started services mount.
func (ls *loadedStack) secretFiles() []secretUse {
	byName := map[string]*secretUse{}
	for _, svc := range ls.Model.Start {
		for _, m := range ls.Model.Services[svc].Secrets {
			u := byName[m.Name]
			if u == nil {
				u = &secretUse{Name: m.Name, Path: m.Path}
				byName[m.Name] = u
			}
			u.Services = append(u.Services, svc)
		}
	}
	out := make([]secretUse, 0, len(byName))
	for _, u := range byName {
		out = append(out, *u)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

type secretUse struct {
	Name     string
	Path     string
	Services []string
}

// redactor hides every secret value of the stack in text shown to the user
// (logs and probe output of a failed service could echo a password).
func (ls *loadedStack) redactor() func(string) string {
	var values []string
	for _, s := range ls.Catalogue.Secrets {
		b, err := secrets.ReadSecret(s.Path)
		if err != nil {
			continue
		}
		v := strings.TrimRight(string(b), "\r\n")
		if len(v) >= 4 {
			values = append(values, v)
		}
	}
	return func(s string) string {
		for _, v := range values {
			s = strings.ReplaceAll(s, v, "[redacted]")
		}
		return s
	}
}
