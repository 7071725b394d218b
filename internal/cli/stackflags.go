package cli

import (
	"fmt"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"go.yaml.in/yaml/v3"

	"github.com/claire-de-binare/cdb-setup/internal/composefile"
	"github.com/claire-de-binare/cdb-setup/internal/exitcode"
	"github.com/claire-de-binare/cdb-setup/internal/manifest"
	"github.com/claire-de-binare/cdb-setup/internal/platform"
	"github.com/claire-de-binare/cdb-setup/internal/secrets"
	"github.com/claire-de-binare/cdb-setup/internal/stack"
	"github.com/claire-de-binare/cdb-setup/internal/step"
	"github.com/claire-de-binare/cdb-setup/internal/workspace"
)

// StackFlags are the stack selection flags `up` and `down` share: a
// profile and overlays, each overlay one --overlay NAME (repeatable), the
// same flag as the wizard's and the secrets commands'. The overlay names
// are the manifest's (help lists the ones of the workspace found).
type StackFlags struct {
	Profile  string
	Overlays []string
	// Services are up's [SERVICE…] arguments: start only these (and what
	// they depend on). Empty: the manifest's targets.
	Services []string

	// stack_up.ps1's switches (--logging, --strict-health,
	// --network-isolation, --tls): hidden, deprecated spellings of
	// --overlay NAME, kept so existing scripts keep working.
	legacy map[string]*bool
}

// legacyOverlayFlags are the old switches, in the order stack_up.ps1 added
// their files.
var legacyOverlayFlags = []string{"logging", "strict-health", "network-isolation", "tls"}

func (s *StackFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&s.Profile, "profile", "", profileUsage)
	fl.StringSliceVar(&s.Overlays, "overlay", nil, overlayUsage)
	s.legacy = map[string]*bool{}
	for _, name := range legacyOverlayFlags {
		v := new(bool)
		s.legacy[name] = v
		fl.BoolVar(v, name, false, "same as --overlay "+name)
		_ = fl.MarkDeprecated(name, "use --overlay "+name)
	}
}

// Flag usages before the workspace is known; describeStackFlags replaces
// them with the manifest's names when help is shown.
const (
	profileUsage = "compose profile from cdb-setup.yaml (default: the manifest's default_profile)"
	overlayUsage = "compose overlay from cdb-setup.yaml, repeatable (--overlay a --overlay b, or --overlay a,b)"
)

// Selection turns the flags into a manifest selection: the --overlay names
// in the order given, then the old switches'.
func (s *StackFlags) Selection() manifest.Selection {
	return manifest.Selection{Profile: s.Profile, Overlays: s.overlays()}
}

func (s *StackFlags) overlays() []string {
	var out []string
	add := func(name string) {
		if name != "" && !slices.Contains(out, name) {
			out = append(out, name)
		}
	}
	for _, o := range s.Overlays {
		add(strings.TrimSpace(o))
	}
	for _, name := range legacyOverlayFlags {
		if v := s.legacy[name]; v != nil && *v {
			add(name)
		}
	}
	return out
}

// hasOverlay reports whether the selection includes the overlay name.
func (s *StackFlags) hasOverlay(name string) bool {
	return slices.Contains(s.overlays(), name)
}

// upArgs are args plus up's SERVICE arguments (up's own "run this again").
func (s *StackFlags) upArgs() []string {
	return append(s.args(), s.Services...)
}

// args renders the flags back for "run this again" fixes, in the one
// spelling (--overlay NAME); without the services, which only up takes.
func (s *StackFlags) args() []string {
	var a []string
	if s.Profile != "" {
		a = append(a, "--profile", s.Profile)
	}
	for _, o := range s.overlays() {
		a = append(a, "--overlay", o)
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
	// TLS is set with --overlay tls: the certificates and cdb-setup's overlay.
	TLS *tlsStack
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
	var tlsSt *tlsStack
	if sf.hasOverlay("tls") {
		// cdb-setup's own overlay goes after the repo's tls.yml (tls_stack.go).
		if tlsSt, files, loaded, err = withTLSOverlay(ctx, ws, files, env, cat, loaded); err != nil {
			return nil, err
		}
	}
	ls := &loadedStack{Workspace: ws, Files: files, Catalogue: cat, Env: env, Project: loaded.Project, TLS: tlsSt}
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
	if len(sf.Services) > 0 {
		// up SERVICE…: only these (compose starts what they depend on).
		if err := knownServices(f, sf, loaded.Project, files); err != nil {
			return nil, err
		}
		ls.Targets = append([]string(nil), sf.Services...)
	}
	var absent []string
	for _, t := range m.Targets {
		if len(sf.Services) > 0 {
			break
		}
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
		b, err := os.ReadFile(repoPath(repo, f))
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

// describeStackFlags completes the --profile and --overlay usages of cmd
// with the names the manifest of the workspace found has (the repository's
// cdb-setup.yaml, else the built-in CDB default), so help never offers an
// overlay this stack does not have. Help must work anywhere: without a
// clone it says where the names come from instead.
func describeStackFlags(f *Factory, cmd *cobra.Command) {
	ov, pr := cmd.Flags().Lookup("overlay"), cmd.Flags().Lookup("profile")
	if ov == nil && pr == nil {
		return
	}
	var note func(kind string) string
	ws, err := f.Workspace()
	if err != nil || ws.NeedRepo() != nil || ws.Manifest == nil {
		note = func(string) string {
			return "the names are those of your clone's manifest: run this help inside the clone or with --repo DIR to list them"
		}
	} else {
		m := ws.Manifest
		note = func(kind string) string {
			var names []string
			if kind == "overlay" {
				names = sortedNames(m.Overlays)
			} else {
				for _, p := range sortedNames(m.Profiles) {
					if p == m.DefaultProfile {
						p += " (default)"
					}
					names = append(names, p)
				}
			}
			list := strings.Join(names, ", ")
			if list == "" {
				list = "none"
			}
			return "this stack has: " + list + " (" + ws.ManifestSource + ")"
		}
	}
	for kind, fl := range map[string]*pflag.Flag{"overlay": ov, "profile": pr} {
		if fl == nil {
			continue
		}
		// The usage as registered, without a note of an earlier help call,
		// keeps its [CDB_SETUP_*] variable last.
		base, _, _ := strings.Cut(fl.Usage, "; this stack has: ")
		base, _, _ = strings.Cut(base, "; the names are those")
		env := ""
		if i := strings.LastIndex(base, " ["); i >= 0 && strings.HasSuffix(base, "]") {
			base, env = base[:i], base[i:]
		}
		fl.Usage = base + "; " + note(kind) + env
	}
}

// knownServices is the usage error (exit 2) for an `up SERVICE` argument
// the compose files do not define, with the closest name as a suggestion
// (the whole command line, the wrong name replaced) and the whole list.
func knownServices(f *Factory, sf *StackFlags, p *types.Project, files []string) error {
	all := make([]string, 0, len(p.Services))
	for name := range p.Services {
		all = append(all, name)
	}
	sort.Strings(all)
	for i, name := range sf.Services {
		if _, ok := p.Services[name]; ok {
			continue
		}
		err := exitcode.New(exitcode.Usage, fmt.Errorf("unknown service %q (the services of %s: %s)", name, strings.Join(files, " + "), strings.Join(all, ", ")))
		if near := closest(name, all); len(near) > 0 {
			fixed := *sf
			fixed.Services = append(append(append([]string(nil), sf.Services[:i]...), near[0]), sf.Services[i+1:]...)
			return step.WithFix(err, "Did you mean `"+rerunCommand(f, "up", fixed.upArgs())+"`?")
		}
		return step.WithFix(err, "name services from the list, or run `"+rerunCommand(f, "up", sf.args())+"` for the manifest's targets")
	}
	return nil
}
