package cli

import (
	"context"
	"strconv"
	"strings"

	"github.com/claire-de-binare/cdb-setup/internal/platform"
	"github.com/claire-de-binare/cdb-setup/internal/workspace"
)

// GlobalOptions are the flags every command shares (README, "Common
// flags"). Each has a CDB_SETUP_* environment equivalent; a flag given on the
// command line wins over the environment.
type GlobalOptions struct {
	Repo        string // --repo: the CDB clone (default: git top-level of the working directory)
	SecretsPath string // --secrets-path: the secrets folder (default: <Documents>/.secrets/.cdb)
	ProjectName string // --project-name: the compose project (default: STACK_NAME, else the manifest's)
	// NoInput (--no-input) never prompts: where an answer or a confirmation
	// is missing the command fails (exit 3) naming the flag that gives it.
	NoInput bool
	// Yes (--yes) confirms and accepts the defaults; it implies no prompting.
	// Only --yes confirms a deletion, never --no-input.
	Yes     bool
	DryRun  bool // --dry-run: print the plan, change nothing
	JSON    bool // --json: machine-readable result on stdout, human text on stderr
	Verbose bool // -v
}

// Factory hands commands their collaborators, gh style: streams, options and
// the injectable view of the OS.
type Factory struct {
	IO      *IOStreams
	Global  *GlobalOptions
	Env     platform.Environment
	Context context.Context

	facts *platform.Facts
	// out is what the command hands over for the --json envelope.
	out jsonPayload
	ws  *workspace.Workspace
	// jsonArgs: the command line or CDB_SETUP_JSON asks for --json (set by
	// execute before parsing; see reportOut).
	jsonArgs bool
}

// CanPrompt is true when a question may be asked: a terminal on both ends,
// no --no-input/--yes, and not CI.
func (f *Factory) CanPrompt() bool {
	if f.Global.NoInput || f.Global.Yes || f.Global.JSON {
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

// applyEnvDefaults fills options from CDB_SETUP_* where the flag was not
// given. The locations (repo, secrets path, project) are not among them:
// the workspace resolves those, so it can say which one was used.
func (g *GlobalOptions) applyEnvDefaults(env platform.Environment, changed func(string) bool) {
	if !changed("no-input") && envBool(env, "CDB_SETUP_NO_INPUT") {
		g.NoInput = true
	}
	// --no-input on the command line wins over CDB_SETUP_YES in the
	// environment: the user asked for this run to confirm nothing.
	if !changed("yes") && !changed("no-input") && envBool(env, "CDB_SETUP_YES") {
		g.Yes = true
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
