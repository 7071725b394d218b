// Package wizard asks the setup questions and returns the answers. It holds
// no setup logic: what the answers mean (which steps run) is decided by
// internal/setup, and the same Answers come from the huh forms, from flags,
// CDB_SETUP_* variables or an --answers YAML file.
package wizard

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/claire-de-binare/cdb-setup/internal/platform"
)

// Persistence targets for SECRETS_PATH (the env step's PersistOptions).
const (
	PersistShells     = "shells"      // rc files, fish; the user environment on Windows
	PersistGUI        = "gui"         // environment.d, LaunchAgent
	PersistWSL        = "wsl"         // WSLENV, Windows only
	PersistComposeEnv = "compose-env" // the compose project's .env
)

// PersistTargets lists every persistence target in display order.
var PersistTargets = []string{PersistShells, PersistGUI, PersistWSL, PersistComposeEnv}

// Answers are everything the wizard asks. A nil pointer or nil slice means
// "not answered" (so Missing can list it); an empty, non-nil slice is the
// answer "none".
type Answers struct {
	// SecretsPath is the secrets folder (SECRETS_PATH).
	SecretsPath string `yaml:"secrets_path,omitempty" json:"secrets_path,omitempty"`
	// Profile and Overlays select the compose files.
	Profile  string   `yaml:"profile,omitempty" json:"profile,omitempty"`
	Overlays []string `yaml:"overlays,omitempty" json:"overlays,omitempty"`
	// External holds the values of external secrets (SMTP, exchange API)
	// the user typed or put in the answers file. Never serialised to JSON,
	// never saved with SaveYAML, never printed: only the names are shown.
	External map[string]string `yaml:"external,omitempty" json:"-"`
	// Keychain: mirror the secrets into the OS keychain.
	Keychain *bool `yaml:"keychain,omitempty" json:"keychain,omitempty"`
	// Persist lists where SECRETS_PATH is made permanent (PersistTargets).
	Persist []string `yaml:"persist,omitempty" json:"persist,omitempty"`
	// Hook: install the gitleaks pre-commit hook.
	Hook *bool `yaml:"hook,omitempty" json:"hook,omitempty"`
	// Start: start the stack at the end.
	Start *bool `yaml:"start,omitempty" json:"start,omitempty"`
}

// Bool returns a pointer to b, for building Answers.
func Bool(b bool) *bool { return &b }

// Merge fills every unanswered field of a from b (a wins).
func (a Answers) Merge(b Answers) Answers {
	if a.SecretsPath == "" {
		a.SecretsPath = b.SecretsPath
	}
	if a.Profile == "" {
		a.Profile = b.Profile
	}
	if a.Overlays == nil {
		a.Overlays = b.Overlays
	}
	if len(b.External) > 0 {
		m := make(map[string]string, len(a.External)+len(b.External))
		for k, v := range b.External {
			m[k] = v
		}
		for k, v := range a.External {
			m[k] = v
		}
		a.External = m
	}
	if a.Keychain == nil {
		a.Keychain = b.Keychain
	}
	if a.Persist == nil {
		a.Persist = b.Persist
	}
	if a.Hook == nil {
		a.Hook = b.Hook
	}
	if a.Start == nil {
		a.Start = b.Start
	}
	return a
}

// WithoutSecrets is a copy with the external values removed (for saving the
// answers as the next run's defaults).
func (a Answers) WithoutSecrets() Answers {
	a.External = nil
	return a
}

// Wants reports whether target is among the persistence targets.
func (a Answers) Wants(target string) bool {
	for _, p := range a.Persist {
		if p == target {
			return true
		}
	}
	return false
}

// Offer says which questions apply on this machine and this version: a
// question about a step that is not available, or a keychain that does not
// answer, is not asked and not required.
type Offer struct {
	Profiles []string // the manifest's profiles
	Overlays []string // the manifest's overlay names
	// External are the external secrets of the catalogue, in order.
	External []ExternalSecret
	Keychain bool
	Persist  bool
	// PersistTargets are the targets that make sense here (no "wsl" off Windows).
	PersistTargets []string
	Hook           bool
	Start          bool
}

// ExternalSecret is one secret the user supplies.
type ExternalSecret struct {
	Name     string
	Prompt   string
	Optional bool
	// Sensitive ones are asked with a masked field (everything but an
	// address or user name).
	Sensitive bool
}

// MissingAnswer is one answer a non-interactive run needs and did not get,
// with every way to give it.
type MissingAnswer struct {
	Question string `json:"question"`
	Flag     string `json:"flag"`
	Env      string `json:"env,omitempty"`
	Key      string `json:"answers_key"`
}

func (m MissingAnswer) String() string {
	s := m.Question + ": " + m.Flag
	if m.Env != "" {
		s += ", " + m.Env
	}
	return s + ", or `" + m.Key + ":` in --answers FILE"
}

// Missing lists every answer a run without questions still needs, all at
// once (a user fixing one at a time would run the tool once per answer).
func (a Answers) Missing(o Offer) []MissingAnswer {
	var out []MissingAnswer
	if a.SecretsPath == "" {
		out = append(out, MissingAnswer{"secrets folder", "--secrets-path DIR", "CDB_SETUP_SECRETS_PATH", "secrets_path"})
	}
	if a.Profile == "" && len(o.Profiles) > 0 {
		out = append(out, MissingAnswer{"compose profile (" + strings.Join(o.Profiles, ", ") + ")", "--profile NAME", "CDB_SETUP_PROFILE", "profile"})
	}
	for _, e := range o.External {
		if !e.Optional && a.External[e.Name] == "" {
			out = append(out, MissingAnswer{"secret " + e.Name + " (" + e.Prompt + ")", "`cdb-setup secrets from-env` before this run", "", "external: {" + e.Name})
		}
	}
	if o.Keychain && a.Keychain == nil {
		out = append(out, MissingAnswer{"mirror secrets into the OS keychain (yes/no)", "--keychain=true|false", "CDB_SETUP_KEYCHAIN", "keychain"})
	}
	if o.Persist && a.Persist == nil {
		out = append(out, MissingAnswer{"where to persist SECRETS_PATH (" + strings.Join(o.PersistTargets, ",") + " or none)", "--persist LIST", "CDB_SETUP_PERSIST", "persist"})
	}
	if o.Hook && a.Hook == nil {
		out = append(out, MissingAnswer{"install the gitleaks pre-commit hook (yes/no)", "--hook=true|false", "CDB_SETUP_HOOK", "hook"})
	}
	if o.Start && a.Start == nil {
		out = append(out, MissingAnswer{"start the stack now (yes/no)", "--start=true|false", "CDB_SETUP_START", "start"})
	}
	return out
}

// Defaults are the answers --yes accepts, for this machine: the default
// secrets folder, the manifest's default profile, no overlays, the keychain
// mirror when one answers, persistence for shells (and WSL on Windows), the
// hook, and starting the stack. A question that is not offered gets no
// default: saving "no" for an area this version cannot do would decline it
// for good once a later version can.
func Defaults(f platform.Facts, defaultProfile string, o Offer) Answers {
	a := Answers{
		SecretsPath: f.DefaultSecretsPath(),
		Profile:     defaultProfile,
		Overlays:    []string{},
	}
	if o.Keychain {
		a.Keychain = Bool(true)
	}
	if o.Persist {
		a.Persist = []string{PersistShells}
		if f.OS == "windows" {
			a.Persist = append(a.Persist, PersistWSL)
		}
	}
	if o.Hook {
		a.Hook = Bool(true)
	}
	if o.Start {
		a.Start = Bool(true)
	}
	return a
}

// ParseYAML reads an answers file. Unknown keys are errors: a typo
// ("persits:") must not silently become "not answered".
func ParseYAML(b []byte) (Answers, error) {
	var a Answers
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
	if len(bytes.TrimSpace(b)) == 0 {
		return a, nil
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&a); err != nil {
		if errors.Is(err, io.EOF) {
			return a, nil
		}
		return Answers{}, fmt.Errorf("answers file: %w", redactYAMLError(err))
	}
	a.Overlays, a.Persist = noneList(a.Overlays), noneList(a.Persist)
	if err := a.Validate(); err != nil {
		return Answers{}, fmt.Errorf("answers file: %w", err)
	}
	return a, nil
}

// redactYAMLError drops quoted values from a YAML error: a type error on the
// external: map would otherwise repeat a secret ("cannot unmarshal !!seq
// `hunter2` into string").
func redactYAMLError(err error) error {
	msg := err.Error()
	var b strings.Builder
	in := false
	for _, r := range msg {
		if r == '`' {
			in = !in
			if in {
				b.WriteString("`…")
			} else {
				b.WriteRune(r)
			}
			continue
		}
		if !in {
			b.WriteRune(r)
		}
	}
	return errors.New(b.String())
}

// Validate checks values that would otherwise fail later, deep in a step.
func (a Answers) Validate() error {
	var errs []string
	if a.SecretsPath != "" && !filepath.IsAbs(a.SecretsPath) && !strings.HasPrefix(a.SecretsPath, "~") {
		errs = append(errs, fmt.Sprintf("secrets_path %q must be an absolute folder (or start with ~)", a.SecretsPath))
	}
	if strings.ContainsAny(a.SecretsPath, "\x00\n\r") {
		errs = append(errs, "secrets_path contains a control character")
	}
	for _, p := range a.Persist {
		if !validPersist(p) {
			errs = append(errs, fmt.Sprintf("persist %q is not one of %s", p, strings.Join(PersistTargets, ", ")))
		}
	}
	names := make([]string, 0, len(a.External))
	for k := range a.External {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		if k == "" || strings.ContainsAny(k, `/\`+"\x00") || k == "." || k == ".." {
			errs = append(errs, fmt.Sprintf("external: %q is not a secret file name", k))
		}
	}
	if len(errs) > 0 {
		return errors.New(strings.Join(errs, "; "))
	}
	return nil
}

func validPersist(p string) bool {
	for _, t := range PersistTargets {
		if p == t {
			return true
		}
	}
	return false
}

// ParseList reads a comma-separated list from a flag or variable; "none"
// (or an empty string) is the explicit empty answer.
func ParseList(s string) []string {
	out := []string{}
	for _, p := range strings.Split(s, ",") {
		p = strings.TrimSpace(p)
		if p == "" || strings.EqualFold(p, "none") {
			continue
		}
		out = append(out, p)
	}
	return out
}

// FromEnv reads the CDB_SETUP_* answers. Secret values are never taken from
// the environment here: `cdb-setup secrets from-env` is the CI path for them.
func FromEnv(env platform.Environment) (Answers, error) {
	var a Answers
	var errs []string
	a.SecretsPath = env.Getenv("CDB_SETUP_SECRETS_PATH")
	a.Profile = env.Getenv("CDB_SETUP_PROFILE")
	if v, ok := env.LookupEnv("CDB_SETUP_OVERLAYS"); ok {
		a.Overlays = ParseList(v)
	}
	if v, ok := env.LookupEnv("CDB_SETUP_PERSIST"); ok {
		a.Persist = ParseList(v)
	}
	for _, b := range []struct {
		key string
		dst **bool
	}{{"CDB_SETUP_KEYCHAIN", &a.Keychain}, {"CDB_SETUP_HOOK", &a.Hook}, {"CDB_SETUP_START", &a.Start}} {
		v, ok := env.LookupEnv(b.key)
		if !ok || v == "" {
			continue
		}
		x, err := parseYesNo(v)
		if err != nil {
			errs = append(errs, fmt.Sprintf("%s=%q: %v", b.key, v, err))
			continue
		}
		*b.dst = &x
	}
	if len(errs) > 0 {
		return Answers{}, errors.New(strings.Join(errs, "; "))
	}
	return a, a.Validate()
}

func parseYesNo(v string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "y", "yes", "on":
		return true, nil
	case "n", "no", "off":
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, errors.New("use true or false")
	}
	return b, nil
}

// SaveYAML renders the answers without secret values, for the state
// folder (the next run's defaults) and `--dry-run` output.
func (a Answers) SaveYAML() ([]byte, error) {
	a = a.WithoutSecrets()
	// An explicit "none" is an answer; omitempty would drop an empty list
	// and the next run would ask again (or, without a terminal, fail).
	if a.Overlays != nil && len(a.Overlays) == 0 {
		a.Overlays = []string{"none"}
	}
	if a.Persist != nil && len(a.Persist) == 0 {
		a.Persist = []string{"none"}
	}
	return yaml.Marshal(a)
}

// noneList reads [none] (and "none" among others) as the empty answer.
func noneList(l []string) []string {
	if l == nil {
		return nil
	}
	out := []string{}
	for _, x := range l {
		if !strings.EqualFold(strings.TrimSpace(x), "none") {
			out = append(out, x)
		}
	}
	return out
}

// ExpandHome resolves a leading ~ in the secrets path.
func (a Answers) ExpandHome(home string) Answers {
	p := a.SecretsPath
	switch {
	case p == "~":
		a.SecretsPath = home
	case strings.HasPrefix(p, "~/") || strings.HasPrefix(p, `~\`):
		a.SecretsPath = filepath.Join(home, p[2:])
	}
	if a.SecretsPath != "" {
		a.SecretsPath = filepath.Clean(a.SecretsPath)
	}
	return a
}
