// Package cli holds the cobra commands: one file per command, each with an
// Options struct, NewCmdX(f, runF) that only wires flags, and a run function
// that does the work (the GitHub CLI's layout).
package cli

import (
	"context"
	"errors"
	"fmt"
	goio "io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/claire-de-binare/cdb-setup/internal/exitcode"
	"github.com/claire-de-binare/cdb-setup/internal/platform"
	"github.com/claire-de-binare/cdb-setup/internal/step"
)

// NewRootCmd builds the whole command tree.
func NewRootCmd(f *Factory) *cobra.Command {
	return newRootCmd(f, nil)
}

// newRootCmd takes the wizard's run function (tests replace it, gh style).
func newRootCmd(f *Factory, wizardF func(*WizardOptions) error) *cobra.Command {
	root := &cobra.Command{
		Use:   "cdb-setup",
		Short: "Set up the Claire de Binare stack: secrets, SECRETS_PATH, hook, healthy containers",
		Long: `cdb-setup takes you from a fresh clone of the Claire de Binare repository to a
healthy Docker Compose stack: it creates the secrets folder and files, makes
SECRETS_PATH visible to new shells, installs the gitleaks pre-commit hook and
starts the stack, waiting until every service is healthy — or it tells you
exactly what is wrong and the command that fixes it.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			flags := cmd.Flags()
			f.Global.applyEnvDefaults(f.Env, func(name string) bool {
				fl := flags.Lookup(name)
				return fl != nil && fl.Changed
			})
			return nil
		},
	}
	root.SetIn(f.IO.In)
	// Help is a report: stdout (reportOut); cobra's errors are silenced
	// and printed by execute on stderr.
	root.SetOut(f.reportOut())
	root.SetErr(f.IO.ErrOut)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		return exitcode.New(exitcode.Usage, err)
	})

	pf := root.PersistentFlags()
	g := f.Global
	pf.StringVar(&g.Repo, "repo", "", "the CDB repository (default: git top-level of the working directory) [CDB_SETUP_REPO]")
	pf.StringVar(&g.SecretsPath, "secrets-path", "", "the secrets folder (default: your last setup's, else SECRETS_PATH, else <Documents>/.secrets/.cdb; see docs/workspace.md) [CDB_SETUP_SECRETS_PATH]")
	pf.StringVar(&g.ProjectName, "project-name", "", "compose project name, e.g. to run a second copy side by side (default: STACK_NAME, else the manifest's project) [CDB_SETUP_PROJECT]")
	pf.BoolVar(&g.NoInput, "no-input", false, "never prompt; where an answer or a confirmation is missing, fail (exit 3) naming the flag that gives it [CDB_SETUP_NO_INPUT]")
	pf.BoolVar(&g.Yes, "yes", false, "accept the default answers and confirm what you asked for, deletions included (down --volumes, up --recreate-volume); never prompts [CDB_SETUP_YES]")
	pf.BoolVar(&g.DryRun, "dry-run", false, "print the plan and change nothing [CDB_SETUP_DRY_RUN]")
	pf.BoolVar(&g.JSON, "json", false, "one JSON document on stdout, on success and failure (docs/json.md); all human text, reports and help included, on stderr; never prompts [CDB_SETUP_JSON]")
	pf.BoolVarP(&g.Verbose, "verbose", "v", false, "more detail [CDB_SETUP_VERBOSE]")

	root.AddCommand(NewCmdVersion(f, nil))
	addCommands(root, f)
	// Without a subcommand, cdb-setup is the wizard (wizard.go).
	bindWizard(root, f, wizardF)
	bindVersionFlag(root, f)
	root.SetHelpCommand(newHelpCmd())
	// Help names the profiles and overlays of the manifest in use.
	defaultHelp := root.HelpFunc()
	root.SetHelpFunc(func(c *cobra.Command, args []string) {
		describeStackFlags(f, c)
		defaultHelp(c, args)
	})

	// cobra's `completion bash|zsh|fish|powershell` prints a script meant for
	// `source <(cdb-setup completion bash)`: machine output, so stdout, not
	// ErrOut like the rest of cobra's text. Cobra binds the writer when it
	// creates the command, so create it now with Out in place.
	root.SetOut(productOut{f})
	root.InitDefaultCompletionCmd()
	root.SetOut(f.reportOut())
	guardGroups(root)
	return root
}

// addCommands registers every command group. Kept apart from NewRootCmd so
// each group is one line here.
func addCommands(root *cobra.Command, f *Factory) {
	root.AddCommand(NewCmdHook(f))
	root.AddCommand(NewCmdEnv(f))
	root.AddCommand(NewCmdUninstall(f, nil))
	root.AddCommand(NewCmdDoctor(f, nil))
	root.AddCommand(NewCmdKeychain(f, nil))
	root.AddCommand(NewCmdSecrets(f))
	root.AddCommand(NewCmdTeam(f))
	root.AddCommand(NewCmdUp(f, nil), NewCmdDown(f, nil))
	root.AddCommand(NewCmdManifest(f))
	root.AddCommand(NewCmdTLS(f, nil))
}

// Main runs the command line and returns the process exit code. It is the
// one place that reports the outcome: a failure is printed on stderr with
// its fix ("✗ ..." then "  fix: ..."), unless the command already explained
// it; under --json exactly one Envelope goes to stdout, on success and on
// every failure.
func Main(ctx context.Context, args []string, io *IOStreams, env platform.Environment) int {
	f := &Factory{IO: io, Global: &GlobalOptions{}, Env: env, Context: ctx}
	return execute(ctx, f, NewRootCmd(f), args)
}

// execute runs root (built on f) with args and reports the outcome.
func execute(ctx context.Context, f *Factory, root *cobra.Command, args []string) int {
	io, env := f.IO, f.Env
	f.jsonArgs = jsonWanted(f.Global, args, env)
	root.SetArgs(args)
	cmd, err := root.ExecuteContextC(ctx)
	code := exitCode(ctx, err)
	if code == exitcode.Usage && cmd != nil && step.FixOf(err) == "" {
		err = step.WithFix(err, "see `"+cmd.CommandPath()+" --help`")
	}
	if code != exitcode.OK {
		printError(io.ErrOut, err)
	}
	if jsonWanted(f.Global, args, env) {
		name := root.Name()
		if cmd != nil {
			name = cmd.CommandPath()
		}
		if jerr := writeJSON(io.Out, f.envelope(name, code, err)); jerr != nil {
			fmt.Fprintf(io.ErrOut, "✗ %s\n", jerr)
			if code == exitcode.OK {
				code = exitcode.Failed
			}
		}
	}
	return code
}

// printError prints a failure and its fix, unless the command already
// explained it (silent).
func printError(w goio.Writer, err error) {
	if err == nil || isSilent(err) {
		return
	}
	fmt.Fprintf(w, "✗ %s\n", err)
	if fix := step.FixOf(err); fix != "" {
		fmt.Fprintf(w, "  fix: %s\n", fix)
	}
}

// exitCode maps the outcome of a command to the documented exit codes.
func exitCode(ctx context.Context, err error) int {
	if err == nil {
		return exitcode.OK
	}
	code := exitcode.From(err)
	if ctx.Err() != nil && errors.Is(ctx.Err(), context.Canceled) {
		return exitcode.Interrupted
	}
	// Cobra's own usage errors ("unknown command", "accepts 1 arg") carry no code.
	if code == exitcode.Failed && isCobraUsageError(err) {
		code = exitcode.Usage
	}
	return code
}

// silentError is a failure whose explanation the command has already
// printed on stderr; Main does not print it again. msg (and a fix in the
// chain) still go into the --json envelope.
type silentError struct {
	msg string
	err error
}

func (e *silentError) Error() string {
	if e.msg != "" {
		return e.msg
	}
	return "failed"
}

func (e *silentError) Unwrap() error { return e.err }

// SilentError returns an error carrying code that Main does not print again
// (the failed step results above said it; the envelope takes its message
// from them).
func SilentError(code int) error {
	return exitcode.New(code, &silentError{})
}

// explained is SilentError for a failure explained on stderr without step
// results: err's message and fix go into the envelope.
func explained(code int, err error) error {
	return exitcode.New(code, &silentError{msg: err.Error(), err: err})
}

func isSilent(err error) bool {
	var s *silentError
	return errors.As(err, &s)
}

func isCobraUsageError(err error) bool {
	msg := err.Error()
	for _, p := range []string{"unknown command", "unknown flag", "unknown shorthand flag", "accepts ", "requires at least", "requires at most", "invalid argument", "flag needs an argument"} {
		if strings.Contains(msg, p) {
			return true
		}
	}
	return false
}
