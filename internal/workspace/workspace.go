// Package workspace resolves, once per run, where everything is: the CDB
// clone, its manifest and compose folder, the secrets folder, the compose
// project name, the state folder and the OS facts. Every command gets them
// from here, so no two commands can disagree about where things are.
//
// One precedence order for each value (docs/workspace.md): command-line
// flag, then CDB_SETUP_* variable, then the answers of the last setup, then
// SECRETS_PATH / STACK_NAME, then the default. Each value carries a source
// string that says exactly where it came from.
//
// Inputs come only through platform.Environment (never os.Getenv), so every
// rule can be tested on any machine.
package workspace

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/claire-de-binare/cdb-setup/internal/exitcode"
	"github.com/claire-de-binare/cdb-setup/internal/manifest"
	"github.com/claire-de-binare/cdb-setup/internal/platform"
	"github.com/claire-de-binare/cdb-setup/internal/secrets"
	"github.com/claire-de-binare/cdb-setup/internal/wizard"
)

// Sources of the secrets folder, as printed after it ("Secrets folder: DIR
// (SOURCE)").
const (
	SecretsFromFlag    = "from --secrets-path"
	SecretsFromEnv     = "from CDB_SETUP_SECRETS_PATH"
	SecretsFromSaved   = "from your last setup"
	SecretsFromPath    = "from SECRETS_PATH"
	SecretsFromDefault = "default <Documents>/.secrets/.cdb"
)

// Sources of the compose project name. The manifest's source is
// ProjectFromManifest followed by where the manifest came from.
const (
	ProjectFromFlag      = "from --project-name"
	ProjectFromEnv       = "from CDB_SETUP_PROJECT"
	ProjectFromStackName = "from STACK_NAME"
	ProjectFromManifest  = "from the manifest"
)

// Flags are the values given on the command line; "" means not given.
type Flags struct {
	Repo        string // --repo
	SecretsPath string // --secrets-path
	Project     string // --project-name
}

// Options are the inputs of Resolve.
type Options struct {
	Flags Flags
	Env   platform.Environment
	// Facts are the machine's facts when the caller detected them already;
	// nil detects them from Env.
	Facts *platform.Facts
}

// Workspace is where everything is for this run.
type Workspace struct {
	Facts platform.Facts

	// Repo is the CDB clone: --repo, CDB_SETUP_REPO, or the git top-level
	// of the working directory. RepoErr says why there is no usable clone
	// (no repository, or its manifest cannot be read); Repo is still set
	// when only the manifest failed. Commands that need the clone call
	// NeedRepo; doctor, env and uninstall also work without one.
	Repo    string
	RepoErr error
	// Manifest is cdb-setup.yaml of the clone, or the built-in CDB default;
	// ManifestSource is its path or "built-in CDB default".
	Manifest       *manifest.Manifest
	ManifestSource string
	// ComposeDir is the absolute compose folder (the manifest's
	// compose_dir); compose reads its .env there.
	ComposeDir string

	// SecretsDir is the secrets folder, absolute and clean; SecretsSource
	// is one of the SecretsFrom* strings.
	SecretsDir    string
	SecretsSource string

	// Project is the compose project name (-p) and the keychain service's
	// stack; ProjectSource is one of the ProjectFrom* strings. Empty when
	// no flag or variable names it and there is no manifest.
	Project       string
	ProjectSource string

	// StateDir holds the state file, the run lock and the last answers;
	// StateDirErr says why it is unknown.
	StateDir    string
	StateDirErr error

	// Saved are the answers of the last setup (no secret values); SavedErr
	// says why they could not be read (they are then ignored).
	Saved    wizard.Answers
	SavedErr error
}

// CatalogueCache is the folder of the secrets catalogue cache (see
// secrets.DiscoverOptions.CacheDir), or "" when the state folder is unknown
// or does not exist yet: a machine cdb-setup has not set up gets no state
// folder just for a cache (a read-only command there changes nothing).
func (w *Workspace) CatalogueCache() string {
	if w.StateDirErr != nil || w.StateDir == "" {
		return ""
	}
	if st, err := os.Stat(w.StateDir); err != nil || !st.IsDir() {
		return ""
	}
	return secrets.CacheDir(w.StateDir)
}

// Resolve finds the workspace. It fails only when the machine's facts
// cannot be detected (no home folder); everything else that is missing is
// recorded in the workspace (RepoErr, StateDirErr, SavedErr) so commands
// that can work without it still do.
func Resolve(ctx context.Context, o Options) (*Workspace, error) {
	env := o.Env
	w := &Workspace{}
	if o.Facts != nil {
		w.Facts = *o.Facts
	} else {
		facts, err := platform.Detect(env)
		if err != nil {
			return nil, exitcode.New(exitcode.Environment, err)
		}
		w.Facts = facts
	}
	home := w.Facts.Home

	w.StateDir, w.StateDirErr = platform.StateDir(env, w.Facts.OS)
	if w.StateDirErr == nil {
		w.Saved, w.SavedErr = LoadSaved(w.StateDir)
	}

	w.resolveRepo(ctx, o.Flags.Repo, env)

	var err error
	w.SecretsDir, w.SecretsSource, err = pick(home, []candidate{
		{o.Flags.SecretsPath, SecretsFromFlag},
		{env.Getenv("CDB_SETUP_SECRETS_PATH"), SecretsFromEnv},
		{w.Saved.SecretsPath, SecretsFromSaved},
		{env.Getenv("SECRETS_PATH"), SecretsFromPath},
		{w.Facts.DefaultSecretsPath(), SecretsFromDefault},
	})
	if err != nil {
		return nil, err
	}

	// The wizard does not ask for a project name, so the last answers hold
	// none: flag, variable, STACK_NAME (the CDB files say
	// name: ${STACK_NAME:-cdb}), then the manifest.
	for _, c := range []candidate{
		{o.Flags.Project, ProjectFromFlag},
		{env.Getenv("CDB_SETUP_PROJECT"), ProjectFromEnv},
		{env.Getenv("STACK_NAME"), ProjectFromStackName},
	} {
		if c.value != "" {
			w.Project, w.ProjectSource = c.value, c.source
			break
		}
	}
	if w.Project == "" && w.Manifest != nil {
		w.Project, w.ProjectSource = w.Manifest.Project, ProjectFromManifest+" ("+w.ManifestSource+")"
	}
	return w, nil
}

type candidate struct{ value, source string }

// pick returns the first non-empty candidate as an absolute, clean path.
func pick(home string, cs []candidate) (string, string, error) {
	for _, c := range cs {
		if c.value == "" {
			continue
		}
		p, err := ExpandPath(c.value, home)
		if err != nil {
			return "", "", exitcode.Usagef("secrets path %s (%s): %v", c.value, c.source, err)
		}
		return p, c.source, nil
	}
	return "", "", nil
}

// resolveRepo finds the clone, its manifest and its compose folder.
func (w *Workspace) resolveRepo(ctx context.Context, flag string, env platform.Environment) {
	given, name := flag, "--repo"
	if given == "" {
		given, name = env.Getenv("CDB_SETUP_REPO"), "CDB_SETUP_REPO"
	}
	if given != "" {
		abs, err := ExpandPath(given, w.Facts.Home)
		if err != nil {
			w.RepoErr = exitcode.Usagef("%s %s: %v", name, given, err)
			return
		}
		st, err := os.Stat(abs)
		if err != nil || !st.IsDir() {
			w.RepoErr = exitcode.Environmentf("%s %s is not a folder: pass the path of your CDB clone", name, given)
			return
		}
		w.Repo = abs
	} else {
		w.Repo, w.RepoErr = gitTopLevel(ctx)
		if w.RepoErr != nil {
			return
		}
	}
	m, src, err := manifest.Load(w.Repo)
	if err != nil {
		w.RepoErr = exitcode.New(exitcode.Failed, err)
		return
	}
	w.Manifest, w.ManifestSource = m, src
	w.ComposeDir = filepath.Join(w.Repo, filepath.FromSlash(m.ComposeDir))
}

// gitTopLevel is the clone the working directory is in.
func gitTopLevel(ctx context.Context) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "git", "rev-parse", "--show-toplevel").Output()
	if err != nil {
		if _, lerr := exec.LookPath("git"); lerr != nil {
			return "", exitcode.Environmentf("git is not installed: install git, or pass --repo DIR (the folder of your CDB clone)")
		}
		return "", exitcode.Environmentf("not inside a git repository: run cdb-setup in your CDB clone, or pass --repo DIR")
	}
	return filepath.Clean(filepath.FromSlash(strings.TrimSpace(string(out)))), nil
}

// NeedRepo is nil when the clone and its manifest were found, else the
// error (with its exit code) that says why not and what to pass.
func (w *Workspace) NeedRepo() error { return w.RepoErr }

// WithSecretsDir is a copy of w that uses another secrets folder (the
// wizard's answer for this run), expanded like every other path.
func (w *Workspace) WithSecretsDir(dir, source string) (*Workspace, error) {
	p, err := ExpandPath(dir, w.Facts.Home)
	if err != nil {
		return nil, exitcode.Usagef("secrets path %s: %v", dir, err)
	}
	c := *w
	c.SecretsDir, c.SecretsSource = p, source
	return &c, nil
}

// ExpandPath makes a path the user typed absolute and clean: "~", "~/x" (and
// "~\x" on Windows) are under home, a relative path is relative to the
// working directory. A shell expands ~ only at the start of a word, so
// `--secrets-path=~/x` or a quoted '~/x' arrives here unexpanded.
func ExpandPath(p, home string) (string, error) {
	switch {
	case p == "~":
		p = home
	case strings.HasPrefix(p, "~/") || filepath.Separator == '\\' && strings.HasPrefix(p, `~\`):
		p = filepath.Join(home, p[2:])
	}
	if !filepath.IsAbs(p) {
		abs, err := filepath.Abs(p)
		if err != nil {
			return "", err
		}
		p = abs
	}
	return filepath.Clean(p), nil
}

// AnswersFileName is where the last run's answers are kept in the state
// folder: a re-run offers them as defaults (and a non-interactive re-run
// needs no flags), so "run it again" is a quick "already done"; every other
// command takes the secrets folder from them.
const AnswersFileName = "answers.yaml"

// LoadSaved reads the answers of the last run; none is not an error.
func LoadSaved(stateDir string) (wizard.Answers, error) {
	b, err := os.ReadFile(filepath.Join(stateDir, AnswersFileName))
	if errors.Is(err, fs.ErrNotExist) {
		return wizard.Answers{}, nil
	}
	if err != nil {
		return wizard.Answers{}, err
	}
	a, err := wizard.ParseYAML(b)
	if err != nil {
		return wizard.Answers{}, fmt.Errorf("%s: %w (delete it to start over)", filepath.Join(stateDir, AnswersFileName), err)
	}
	return a.WithoutSecrets(), nil
}
