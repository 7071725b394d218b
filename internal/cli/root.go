// Package cli holds the cobra commands: one file per command, each with an
// Options struct, NewCmdX(f, runF) that only wires flags, and a run function
// that does the work (the GitHub CLI's layout).
package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/claire-de-binare/cdb-setup/internal/exitcode"
	"github.com/claire-de-binare/cdb-setup/internal/platform"
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
	root.SetOut(f.IO.ErrOut)
	root.SetErr(f.IO.ErrOut)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		return exitcode.New(exitcode.Usage, err)
	})

	pf := root.PersistentFlags()
	g := f.Global
	pf.StringVar(&g.Repo, "repo", "", "the CDB repository (default: git top-level of the working directory) [CDB_SETUP_REPO]")
	pf.StringVar(&g.SecretsPath, "secrets-path", "", "the secrets folder (default: your last setup's, else SECRETS_PATH, else <Documents>/.secrets/.cdb; see docs/workspace.md) [CDB_SETUP_SECRETS_PATH]")
	pf.StringVar(&g.ProjectName, "project-name", "", "compose project name, e.g. to run a second copy side by side (default: STACK_NAME, else the manifest's project) [CDB_SETUP_PROJECT]")
	pf.BoolVar(&g.NoInput, "no-input", false, "never prompt; fail listing every missing answer [CDB_SETUP_NO_INPUT]")
	pf.BoolVar(&g.NoInput, "yes", false, "same as --no-input: accept defaults, never prompt [CDB_SETUP_YES]")
	pf.BoolVar(&g.DryRun, "dry-run", false, "print the plan and change nothing [CDB_SETUP_DRY_RUN]")
	pf.BoolVar(&g.JSON, "json", false, "machine-readable result on stdout; human text on stderr [CDB_SETUP_JSON]")
	pf.BoolVarP(&g.Verbose, "verbose", "v", false, "more detail [CDB_SETUP_VERBOSE]")

	root.AddCommand(NewCmdVersion(f, nil))
	addCommands(root, f)
	// Without a subcommand, cdb-setup is the wizard (wizard.go).
	bindWizard(root, f, wizardF)

	// cobra's `completion bash|zsh|fish|powershell` prints a script meant for
	// `source <(cdb-setup completion bash)`: machine output, so stdout, not
	// ErrOut like the rest of cobra's text. Cobra binds the writer when it
	// creates the command, so create it now with Out in place.
	root.SetOut(f.IO.Out)
	root.InitDefaultCompletionCmd()
	root.SetOut(f.IO.ErrOut)
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
	root.AddCommand(NewCmdUp(f, nil), NewCmdDown(f, nil))
}

// Main runs the command line and returns the process exit code.
func Main(ctx context.Context, args []string, io *IOStreams, env platform.Environment) int {
	f := &Factory{IO: io, Global: &GlobalOptions{}, Env: env, Context: ctx}
	root := NewRootCmd(f)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitcode.OK
	}
	code := exitcode.From(err)
	if ctx.Err() != nil && errors.Is(ctx.Err(), context.Canceled) {
		code = exitcode.Interrupted
	}
	if code == exitcode.OK {
		return code
	}
	// Cobra's own usage errors ("unknown command", "accepts 1 arg") carry no code.
	if code == exitcode.Failed && isCobraUsageError(err) {
		code = exitcode.Usage
	}
	if !errors.Is(err, errSilent) {
		fmt.Fprintf(io.ErrOut, "✗ %s\n", err)
	}
	return code
}

// errSilent marks a failure whose explanation has already been printed.
var errSilent = errors.New("failed")

// SilentError returns an error carrying code that Main does not print again.
func SilentError(code int) error {
	return exitcode.New(code, errSilent)
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
