package cli

import (
	"context"
	"strconv"
	"strings"

	"github.com/claire-de-binare/cdb-setup/internal/platform"
)

// GlobalOptions are the flags every command shares (README, "Common
// flags"). Each has a CDB_SETUP_* environment equivalent; a flag given on the
// command line wins over the environment.
type GlobalOptions struct {
	Repo        string // --repo: the CDB clone (default: git top-level of the working directory)
	SecretsPath string // --secrets-path: the secrets folder (default: <Documents>/.secrets/.cdb)
	NoInput     bool   // --yes / --no-input: never prompt; fail listing what is missing
	DryRun      bool   // --dry-run: print the plan, change nothing
	JSON        bool   // --json: machine-readable result on stdout, human text on stderr
	Verbose     bool   // -v
}

// Factory hands commands their collaborators, gh style: streams, options and
// the injectable view of the OS.
type Factory struct {
	IO      *IOStreams
	Global  *GlobalOptions
	Env     platform.Environment
	Context context.Context

	facts *platform.Facts
}

// CanPrompt is true when a question may be asked: a terminal on both ends,
// no --no-input/--yes, and not CI.
func (f *Factory) CanPrompt() bool {
	if f.Global.NoInput || f.Global.JSON {
		return false
	}
	if v := f.Env.Getenv("CI"); v != "" && v != "0" && !strings.EqualFold(v, "false") {
		return false
	}
	return f.IO.CanPrompt()
}

// envBool reads a CDB_SETUP_* boolean; anything but "", "0" and "false" is true.
func envBool(env platform.Environment, key string) bool {
	v := env.Getenv(key)
	if v == "" {
		return false
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return true
	}
	return b
}

// applyEnvDefaults fills options from CDB_SETUP_* where the flag was not given.
func (g *GlobalOptions) applyEnvDefaults(env platform.Environment, changed func(string) bool) {
	if !changed("repo") && env.Getenv("CDB_SETUP_REPO") != "" {
		g.Repo = env.Getenv("CDB_SETUP_REPO")
	}
	if !changed("secrets-path") && env.Getenv("CDB_SETUP_SECRETS_PATH") != "" {
		g.SecretsPath = env.Getenv("CDB_SETUP_SECRETS_PATH")
	}
	if !changed("no-input") && !changed("yes") && (envBool(env, "CDB_SETUP_NO_INPUT") || envBool(env, "CDB_SETUP_YES")) {
		g.NoInput = true
	}
	if !changed("dry-run") && envBool(env, "CDB_SETUP_DRY_RUN") {
		g.DryRun = true
	}
	if !changed("json") && envBool(env, "CDB_SETUP_JSON") {
		g.JSON = true
	}
	if !changed("verbose") && envBool(env, "CDB_SETUP_VERBOSE") {
		g.Verbose = true
	}
}
