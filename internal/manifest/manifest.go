// Package manifest reads cdb-setup.yaml: what differs between stacks (compose
// files per profile and overlay, project name, target services, per-secret
// policy, TLS certificates, functional checks). Without a manifest in the
// repo, Default describes the Claire de Binare layout exactly.
//
// The compose files stay the source of truth for which secrets exist; the
// manifest only says how to make each one (see internal/secrets).
package manifest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

// FileName is the manifest's name at the repo root.
const FileName = "cdb-setup.yaml"

// Secret kinds.
const (
	KindGenerated = "generated" // random, made by cdb-setup
	KindDerived   = "derived"   // computed from other secrets by Template
	KindExternal  = "external"  // supplied by the user (SMTP, exchange API keys)
)

// Alphabets for generated secrets. Alphanumeric is the default: URL-, shell-
// and YAML-safe, so it never breaks a DSN or a `$(cat)`.
var Alphabets = map[string]string{
	"alnum": "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
	"hex":   "0123456789abcdef",
}

// Manifest describes one stack.
type Manifest struct {
	Version int `yaml:"version"`
	// Project is the compose project name (the CDB files say ${STACK_NAME:-cdb}).
	Project string `yaml:"project"`
	// ComposeDir is the folder of the compose files, relative to the repo,
	// with forward slashes. Compose reads .env from here.
	ComposeDir string `yaml:"compose_dir"`
	// Profiles maps a profile name to its compose files, in -f order.
	Profiles map[string][]string `yaml:"profiles"`
	// DefaultProfile is used when --profile is not given.
	DefaultProfile string `yaml:"default_profile"`
	// Overlays maps an overlay flag (logging, strict-health,
	// network-isolation, tls) to the files it adds after the profile's.
	Overlays map[string][]string `yaml:"overlays"`
	// Targets are the services `up` starts and waits for.
	Targets []string `yaml:"targets"`
	// TLS describes the certificates the tls overlay mounts.
	TLS TLS `yaml:"tls"`
	// Secrets gives the policy of each secret file, by file name.
	Secrets map[string]Secret `yaml:"secrets"`
	// Checks are functional checks run after the stack is healthy.
	Checks []Check `yaml:"checks"`
	// Team says where the team's sealed secrets live (cdb-setup team,
	// docs/team.md). Empty fields take the defaults.
	Team Team `yaml:"team,omitempty"`
}

// Team is the committed pair of `cdb-setup team`: the recipients (public
// keys) and the sealed file (age-encrypted secrets). Paths are relative to
// the repo, with forward slashes.
type Team struct {
	Sealed     string `yaml:"sealed,omitempty"`
	Recipients string `yaml:"recipients,omitempty"`
}

// Defaults of Team.
const (
	DefaultTeamSealed     = "infrastructure/secrets/team-secrets.age"
	DefaultTeamRecipients = "infrastructure/secrets/team-recipients.txt"
)

// TLS is the certificate folder of the tls overlay.
type TLS struct {
	// Dir is relative to the repo (forward slashes) or absolute.
	Dir   string   `yaml:"dir"`
	Files []string `yaml:"files"`
}

// Secret is the policy for one secret file.
type Secret struct {
	Kind string `yaml:"kind"`
	// Length and Alphabet apply to generated secrets (default 32, alnum).
	Length   int    `yaml:"length,omitempty"`
	Alphabet string `yaml:"alphabet,omitempty"`
	// Template applies to derived secrets: a Go text/template (see
	// internal/secrets for its functions).
	Template string `yaml:"template,omitempty"`
	// Prompt is the question asked for an external secret.
	Prompt string `yaml:"prompt,omitempty"`
	// Optional external secrets may stay empty; the stack still starts.
	Optional bool `yaml:"optional,omitempty"`
	// Volume names the compose volume that keeps this password once a
	// service initialised with it (postgres_data, grafana_data): changing
	// the secret then locks the service out.
	Volume string `yaml:"volume,omitempty"`
}

// Check is a functional check run once the stack is healthy: a healthcheck
// can pass while the password is wrong.
type Check struct {
	// Kind is one of postgres-login, redis-auth, http-basic-auth.
	Kind    string `yaml:"kind"`
	Service string `yaml:"service"`
	// Secret is the secret file holding the password to try.
	Secret string `yaml:"secret"`
	// Address is host:port on the host (the dev profile publishes on 127.0.0.1).
	Address string `yaml:"address"`
	// User, Database and Path are kind-specific.
	User     string `yaml:"user,omitempty"`
	Database string `yaml:"database,omitempty"`
	Path     string `yaml:"path,omitempty"`
}

// Load reads <repo>/cdb-setup.yaml, or returns Default when there is none.
// source says which it was (the file's path, or "built-in CDB default").
func Load(repo string) (m *Manifest, source string, err error) {
	p := filepath.Join(repo, FileName)
	b, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return Default(), "built-in CDB default", nil
	}
	if err != nil {
		return nil, "", fmt.Errorf("read %s: %w", p, err)
	}
	m, err = Parse(b)
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", p, err)
	}
	return m, p, nil
}

// Parse reads and validates a manifest. Unknown keys are errors (a typo must
// not silently fall back to a default). The file is a set of overrides of
// Default, key by key (see overDefault and docs/manifest.md): a manifest
// with only `targets:` is the CDB default with other targets.
func Parse(b []byte) (*Manifest, error) {
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
	var m Manifest
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&m); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("the manifest is empty")
		}
		return nil, fmt.Errorf("invalid YAML: %w", err)
	}
	// The keys the file writes (a mapping, as the strict decode proved;
	// null for a document that is only "~").
	var written map[string]any
	if err := yaml.Unmarshal(b, &written); err != nil {
		return nil, fmt.Errorf("invalid YAML: %w", err)
	}
	m.overDefault(written)
	m.applyDefaults()
	if err := m.Validate(); err != nil {
		return nil, err
	}
	return &m, nil
}

// Keys lists the manifest's top-level keys in the order of the file format.
var Keys = []string{"version", "project", "compose_dir", "profiles", "default_profile", "overlays", "targets", "tls", "secrets", "checks"}

// inheritsWith: a key the file leaves out takes the default's value only
// when the keys it depends on take theirs too, because that value names
// things of the default stack: its profiles and overlays are files in CDB's
// compose folder, its TLS files belong to its tls overlay, its checks log in
// with its secrets. So a manifest with its own compose_dir gets no CDB
// overlay, and one with its own secrets no CDB login check.
var inheritsWith = map[string][]string{
	"profiles":        {"compose_dir"},
	"default_profile": {"profiles"},
	"overlays":        {"compose_dir"},
	"tls":             {"overlays"},
	"checks":          {"secrets"},
}

// Inherits reports whether a manifest writing the keys in written takes
// key's value from Default.
func Inherits(key string, written map[string]any) bool {
	if _, ok := written[key]; ok {
		return false
	}
	for _, dep := range inheritsWith[key] {
		if !Inherits(dep, written) {
			return false
		}
	}
	return true
}

// overDefault fills every key the file does not write from Default (see
// Inherits). A key the file writes replaces the default's value whole:
// maps (profiles, overlays, secrets) and lists are not merged entry by
// entry, so a manifest can also remove what the default has
// (`overlays: {}`).
func (m *Manifest) overDefault(written map[string]any) {
	d := Default()
	for _, key := range Keys {
		if !Inherits(key, written) {
			continue
		}
		switch key {
		case "version":
			m.Version = d.Version
		case "project":
			m.Project = d.Project
		case "compose_dir":
			m.ComposeDir = d.ComposeDir
		case "profiles":
			m.Profiles = d.Profiles
		case "default_profile":
			m.DefaultProfile = d.DefaultProfile
		case "overlays":
			m.Overlays = d.Overlays
		case "targets":
			m.Targets = d.Targets
		case "tls":
			m.TLS = d.TLS
		case "secrets":
			m.Secrets = d.Secrets
		case "checks":
			m.Checks = d.Checks
		}
	}
}

func (m *Manifest) applyDefaults() {
	if m.Version == 0 {
		m.Version = 1
	}
	if m.DefaultProfile == "" {
		// Your own profiles without default_profile: dev if there is one,
		// else the only profile.
		if _, ok := m.Profiles["dev"]; ok {
			m.DefaultProfile = "dev"
		} else if len(m.Profiles) == 1 {
			for p := range m.Profiles {
				m.DefaultProfile = p
			}
		}
	}
	if m.Team.Sealed == "" {
		m.Team.Sealed = DefaultTeamSealed
	}
	if m.Team.Recipients == "" {
		m.Team.Recipients = DefaultTeamRecipients
	}
	for name, s := range m.Secrets {
		if s.Kind == KindGenerated {
			if s.Length == 0 {
				s.Length = 32
			}
			if s.Alphabet == "" {
				s.Alphabet = "alnum"
			}
		}
		m.Secrets[name] = s
	}
}

var (
	nameRe    = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)
	projectRe = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*$`)
)

// Validate checks the manifest for mistakes a user can make by hand.
func (m *Manifest) Validate() error {
	var errs []string
	add := func(format string, a ...any) { errs = append(errs, fmt.Sprintf(format, a...)) }
	if m.Version != 1 {
		add("version %d is not supported (this cdb-setup reads version 1)", m.Version)
	}
	if !projectRe.MatchString(m.Project) {
		add("project %q: must be lower-case letters, digits, '-' or '_' (a compose project name)", m.Project)
	}
	if m.ComposeDir == "" {
		add("compose_dir is missing (e.g. infrastructure/compose)")
	} else if err := relPath(m.ComposeDir); err != nil {
		add("compose_dir %q: %v", m.ComposeDir, err)
	}
	if len(m.Profiles) == 0 {
		add("profiles: at least one profile is needed")
	}
	for _, p := range sortedKeys(m.Profiles) {
		if len(m.Profiles[p]) == 0 {
			add("profile %q lists no compose files", p)
		}
		for _, f := range m.Profiles[p] {
			if err := relPath(f); err != nil {
				add("profile %q: file %q: %v", p, f, err)
			}
		}
	}
	if _, ok := m.Profiles[m.DefaultProfile]; !ok {
		add("default_profile %q is not one of the profiles", m.DefaultProfile)
	}
	for _, o := range sortedKeys(m.Overlays) {
		for _, f := range m.Overlays[o] {
			if err := relPath(f); err != nil {
				add("overlay %q: file %q: %v", o, f, err)
			}
		}
	}
	for _, name := range sortedKeys(m.Secrets) {
		s := m.Secrets[name]
		if !nameRe.MatchString(name) {
			add("secret %q: a file name of letters, digits, '.', '_' or '-' is needed", name)
		}
		switch s.Kind {
		case KindGenerated:
			if _, ok := Alphabets[s.Alphabet]; !ok {
				add("secret %s: alphabet %q is unknown (use one of %s)", name, s.Alphabet, strings.Join(sortedKeys(Alphabets), ", "))
			}
			if s.Length < 16 || s.Length > 1024 {
				add("secret %s: length %d must be between 16 and 1024", name, s.Length)
			}
		case KindDerived:
			if s.Template == "" {
				add("secret %s: a derived secret needs a template", name)
			}
		case KindExternal:
		default:
			add("secret %s: kind %q must be generated, derived or external", name, s.Kind)
		}
	}
	for _, p := range []struct{ key, v string }{{"team.sealed", m.Team.Sealed}, {"team.recipients", m.Team.Recipients}} {
		if p.v == "" {
			continue
		}
		if err := relPath(p.v); err != nil {
			add("%s %q: %v", p.key, p.v, err)
		}
	}
	if m.Team.Sealed != "" && m.Team.Sealed == m.Team.Recipients {
		add("team.sealed and team.recipients must be two different files")
	}
	for i, c := range m.Checks {
		switch c.Kind {
		case "postgres-login", "redis-auth", "http-basic-auth":
		default:
			add("checks[%d]: kind %q must be postgres-login, redis-auth or http-basic-auth", i, c.Kind)
		}
		if _, ok := m.Secrets[c.Secret]; c.Secret != "" && !ok {
			add("checks[%d]: secret %q is not described under secrets", i, c.Secret)
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("invalid manifest:\n  - %s", strings.Join(errs, "\n  - "))
	}
	return nil
}

// relPath accepts a relative, forward-slash path that stays inside the repo.
func relPath(p string) error {
	if strings.Contains(p, `\`) {
		return errors.New("use forward slashes")
	}
	if path.IsAbs(p) || filepath.IsAbs(p) {
		return errors.New("must be relative to the repository")
	}
	if c := path.Clean(p); c == ".." || strings.HasPrefix(c, "../") {
		return errors.New("must stay inside the repository")
	}
	return nil
}

// Selection is a profile plus overlay flags, as given to `up`.
type Selection struct {
	Profile  string
	Overlays []string
}

// ComposeFiles returns the compose files for sel, relative to the repo with
// forward slashes, in -f order: the profile's, then each overlay's in the
// manifest's order of overlay names given.
func (m *Manifest) ComposeFiles(sel Selection) ([]string, error) {
	profile := sel.Profile
	if profile == "" {
		profile = m.DefaultProfile
	}
	files, ok := m.Profiles[profile]
	if !ok {
		return nil, fmt.Errorf("unknown profile %q (this stack has: %s)", profile, strings.Join(sortedKeys(m.Profiles), ", "))
	}
	out := make([]string, 0, len(files))
	seen := map[string]bool{}
	for _, f := range files {
		p := path.Join(m.ComposeDir, f)
		if !seen[p] {
			out = append(out, p)
			seen[p] = true
		}
	}
	for _, o := range sel.Overlays {
		ofiles, ok := m.Overlays[o]
		if !ok {
			return nil, fmt.Errorf("unknown overlay %q (this stack has: %s)", o, strings.Join(sortedKeys(m.Overlays), ", "))
		}
		for _, f := range ofiles {
			p := path.Join(m.ComposeDir, f)
			if !seen[p] {
				out = append(out, p)
				seen[p] = true
			}
		}
	}
	return out, nil
}

// AllComposeFiles is every file of every profile and overlay (for secret
// discovery when no selection is given: init must create every secret any
// combination can mount).
func (m *Manifest) AllComposeFiles() []string {
	var out []string
	seen := map[string]bool{}
	add := func(fs []string) {
		for _, f := range fs {
			p := path.Join(m.ComposeDir, f)
			if !seen[p] {
				out = append(out, p)
				seen[p] = true
			}
		}
	}
	if fs, ok := m.Profiles[m.DefaultProfile]; ok {
		add(fs)
	}
	for _, p := range sortedKeys(m.Profiles) {
		add(m.Profiles[p])
	}
	for _, o := range sortedKeys(m.Overlays) {
		add(m.Overlays[o])
	}
	return out
}

// Marshal renders the manifest as YAML (`cdb-setup manifest print`, whose
// output Parse reads back to the same manifest).
func (m *Manifest) Marshal() ([]byte, error) {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(m); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
