// Package secrets knows the stack's secret files: which exist (the catalogue,
// discovered from the compose files), how each is made (generated, derived,
// external), how to lint, write, back up, rotate and mirror them.
package secrets

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/claire-de-binare/cdb-setup/internal/composefile"
	"github.com/claire-de-binare/cdb-setup/internal/manifest"
	"github.com/claire-de-binare/cdb-setup/internal/platform"
)

// Secret is one secret file of the stack.
type Secret struct {
	// Name is the file name inside the secrets folder (case-sensitive),
	// e.g. REDIS_PASSWORD or MEXC_API_KEY.txt.
	Name string `json:"name"`
	// Keys are the compose secret keys whose file: is this file
	// (redis_password).
	Keys []string `json:"compose_keys"`
	// Policy says how the value is made. A secret the manifest does not
	// describe is external (Described false): the user supplies it.
	Policy    manifest.Secret `json:"policy"`
	Described bool            `json:"described"`
	// Services are the services of the loaded files that mount it.
	Services []string `json:"services,omitempty"`
	// Path is the file's absolute path.
	Path string `json:"path"`
}

// Catalogue is every secret file the selected compose files reference.
type Catalogue struct {
	// Dir is the secrets folder (SECRETS_PATH).
	Dir     string   `json:"dir"`
	Secrets []Secret `json:"secrets"`
	// Files are the compose files read (relative to the repo).
	Files []string `json:"compose_files"`
	// Warnings are what compose would warn about (unset variables).
	Warnings []string `json:"warnings,omitempty"`
}

// Get returns the secret named name.
func (c *Catalogue) Get(name string) (Secret, bool) {
	for _, s := range c.Secrets {
		if s.Name == name {
			return s, true
		}
	}
	return Secret{}, false
}

// Names lists the secret file names in catalogue order.
func (c *Catalogue) Names() []string {
	out := make([]string, len(c.Secrets))
	for i, s := range c.Secrets {
		out[i] = s.Name
	}
	return out
}

// DiscoverOptions say where to look.
type DiscoverOptions struct {
	Repo     string
	Manifest *manifest.Manifest
	// Files are the compose files to read (relative to Repo); empty means
	// the default profile with every overlay, so that init creates every
	// secret any combination of flags can mount.
	Files []string
	// Dir is the secrets folder, absolute.
	Dir string
	// Env is the user's environment; only non-secret variables reach the
	// compose model (see ComposeEnv).
	Env platform.Environment
	// CacheDir is the catalogue cache's folder (CacheDir of the state
	// folder); empty: no cache, every call parses.
	CacheDir string
}

// Discover reads the compose files and returns the catalogue. A secret whose
// file: does not resolve to a file directly inside Dir is refused: cdb-setup
// will not write outside the secrets folder.
func Discover(ctx context.Context, opts DiscoverOptions) (*Catalogue, error) {
	in, err := discoverInputs(opts)
	if err != nil {
		return nil, err
	}
	c, _, err := discoverCached(ctx, opts.CacheDir, in)
	return c, err
}

// discoverInputs resolves the options into what the catalogue depends on.
func discoverInputs(opts DiscoverOptions) (cacheInputs, error) {
	m := opts.Manifest
	files := opts.Files
	if len(files) == 0 {
		var overlays []string
		for o := range m.Overlays {
			overlays = append(overlays, o)
		}
		sort.Strings(overlays)
		var err error
		files, err = m.ComposeFiles(manifest.Selection{Profile: m.DefaultProfile, Overlays: overlays})
		if err != nil {
			return cacheInputs{}, err
		}
	}
	if !filepath.IsAbs(opts.Dir) {
		return cacheInputs{}, fmt.Errorf("secrets folder %q must be an absolute path", opts.Dir)
	}
	dir := filepath.Clean(opts.Dir)
	env := ComposeEnv(opts.Env, nil, dir)
	return cacheInputs{repo: opts.Repo, dir: dir, project: m.Project, manifest: m, files: files, env: env}, nil
}

// discoverCached answers from the catalogue cache when cacheDir holds an
// entry for exactly these inputs (hit true), else parses and stores the
// result.
func discoverCached(ctx context.Context, cacheDir string, in cacheInputs) (c *Catalogue, hit bool, err error) {
	key := ""
	if cacheDir != "" {
		if contents, ok := readCacheInputs(in.repo, in.files); ok {
			in.contents = contents
			if k, err := catalogueKey(in); err == nil {
				key = k
			}
		}
	}
	if key != "" {
		if c := readCachedCatalogue(cacheDir, key, in.dir); c != nil {
			return c, true, nil
		}
	}
	c, err = parseCatalogue(ctx, in)
	if err != nil {
		return nil, false, err
	}
	if key != "" {
		writeCachedCatalogue(cacheDir, key, c)
	}
	return c, false, nil
}

// parseCatalogue reads the compose files with compose-go (without the
// schema validation: doctor and up's preflight validate; a secrets command
// needs only the secrets and the services that mount them).
func parseCatalogue(ctx context.Context, in cacheInputs) (*Catalogue, error) {
	m, dir, files := in.manifest, in.dir, in.files
	loaded, err := composefile.Load(ctx, composefile.Options{
		Repo:           in.repo,
		Files:          files,
		Env:            in.env,
		ProjectName:    in.project,
		SkipValidation: true,
	})
	if err != nil {
		return nil, err
	}
	p := loaded.Project
	byName := map[string]*Secret{}
	var problems []string
	keys := make([]string, 0, len(p.Secrets))
	for k := range p.Secrets {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, key := range keys {
		sc := p.Secrets[key]
		if bool(sc.External) || sc.Environment != "" || sc.Content != "" {
			// Not a file we manage (swarm external, or from an env var).
			continue
		}
		if sc.File == "" {
			problems = append(problems, fmt.Sprintf("secret %q has no file:", key))
			continue
		}
		name, err := fileInDir(sc.File, dir)
		if err != nil {
			problems = append(problems, fmt.Sprintf("secret %q: %v", key, err))
			continue
		}
		s := byName[name]
		if s == nil {
			pol, described := m.Secrets[name]
			if !described {
				pol = manifest.Secret{Kind: manifest.KindExternal, Prompt: "Value for " + name}
			}
			s = &Secret{Name: name, Policy: pol, Described: described, Path: filepath.Join(dir, name)}
			byName[name] = s
		}
		s.Keys = append(s.Keys, key)
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("the compose files reference secrets cdb-setup will not manage:\n  - %s\nEvery secret must be `file: ${SECRETS_PATH}/<NAME>`", strings.Join(problems, "\n  - "))
	}
	for _, svc := range p.Services {
		for _, ref := range svc.Secrets {
			for _, s := range byName {
				for _, k := range s.Keys {
					if k == ref.Source && !slices.Contains(s.Services, svc.Name) {
						s.Services = append(s.Services, svc.Name)
					}
				}
			}
		}
	}
	c := &Catalogue{Dir: dir, Files: files, Warnings: loaded.Warnings}
	for _, s := range byName {
		sort.Strings(s.Services)
		c.Secrets = append(c.Secrets, *s)
	}
	sort.Slice(c.Secrets, func(i, j int) bool {
		a, b := c.Secrets[i], c.Secrets[j]
		if kindOrder(a.Policy.Kind) != kindOrder(b.Policy.Kind) {
			return kindOrder(a.Policy.Kind) < kindOrder(b.Policy.Kind)
		}
		return a.Name < b.Name
	})
	return c, nil
}

// kindOrder puts generated secrets before the derived ones that need them.
func kindOrder(kind string) int {
	switch kind {
	case manifest.KindGenerated:
		return 0
	case manifest.KindDerived:
		return 1
	default:
		return 2
	}
}

// fileInDir returns the name of file inside dir, or an error when the file
// is elsewhere (an absolute path outside, ${SECRETS_PATH}/../x, a subfolder).
func fileInDir(file, dir string) (string, error) {
	file = filepath.Clean(file)
	rel, err := filepath.Rel(dir, file)
	if err != nil || rel == "." || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) || filepath.IsAbs(rel) {
		return "", fmt.Errorf("file %s is not inside SECRETS_PATH (%s)", file, dir)
	}
	if strings.ContainsRune(rel, filepath.Separator) || strings.Contains(rel, "/") {
		return "", fmt.Errorf("file %s is in a subfolder of SECRETS_PATH; only files directly in it are supported", file)
	}
	// Dot names are cdb-setup's own (.backup, .NAME.tmp-*): a secret there
	// would collide with them.
	if strings.HasPrefix(rel, ".") {
		return "", fmt.Errorf("file %s has a hidden name; names starting with '.' are reserved for backups and temp files", file)
	}
	return rel, nil
}

// secretLike matches variable names that look like they hold a secret.
var secretLike = regexp.MustCompile(`(?i)(PASSWORD|PASSWD|SECRET|TOKEN|API_KEY|APIKEY|PRIVATE_KEY|CREDENTIAL|_DSN$|^SMTP_USER$|^ALERT_EMAIL_TO$)`)

// ComposeEnv is the environment compose gets: the user's, minus every
// variable named like a secret (docs/up.md, password-and-file: an exported
// GRAFANA_PASSWORD makes Grafana refuse to start), plus SECRETS_PATH.
// names are the catalogue's file names; variables named after them (with
// .txt dropped, '.' and '-' as '_', any case) are removed too.
func ComposeEnv(env platform.Environment, names []string, dir string) map[string]string {
	drop := map[string]bool{}
	for _, n := range names {
		drop[EnvName(n)] = true
	}
	out := map[string]string{}
	if env != nil {
		values := currentValues(names, dir)
		for _, kv := range env.Environ() {
			k, v, ok := strings.Cut(kv, "=")
			if !ok || k == "" {
				continue
			}
			if drop[strings.ToUpper(k)] || secretLike.MatchString(k) || strings.HasPrefix(strings.ToUpper(k), "CDB_SECRET_") {
				continue
			}
			// By value too: DATABASE_URL holding the DSN is named like
			// nothing secret.
			if holdsAny(v, values) {
				continue
			}
			out[k] = v
		}
	}
	out["SECRETS_PATH"] = dir
	return out
}

// minValueLen is the shortest secret value looked for in variables: shorter
// ones (none of the stack's) would match ordinary values.
const minValueLen = 8

// currentValues are the values of the secrets in dir (names, or every
// secret-like file when names is nil), read with the size cap.
func currentValues(names []string, dir string) []string {
	if dir == "" {
		return nil
	}
	if names == nil {
		ents, err := os.ReadDir(dir)
		if err != nil {
			return nil
		}
		for _, e := range ents {
			if e.Type().IsRegular() && !strings.HasPrefix(e.Name(), ".") {
				names = append(names, e.Name())
			}
		}
	}
	var out []string
	for _, n := range names {
		b, err := ReadSecret(filepath.Join(dir, n))
		if err != nil {
			continue
		}
		if v := strings.TrimSpace(string(b)); len(v) >= minValueLen {
			out = append(out, v)
		}
	}
	return out
}

func holdsAny(v string, values []string) bool {
	for _, s := range values {
		if strings.Contains(v, s) {
			return true
		}
	}
	return false
}

// EnvName is the variable-style spelling of a secret file name:
// "MEXC_API_KEY.txt" → "MEXC_API_KEY", "redis_password" → "REDIS_PASSWORD".
func EnvName(name string) string {
	n := strings.TrimSuffix(name, ".txt")
	n = strings.NewReplacer(".", "_", "-", "_").Replace(n)
	return strings.ToUpper(n)
}
