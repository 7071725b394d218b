package cli

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/claire-de-binare/cdb-setup/internal/exitcode"
	"github.com/claire-de-binare/cdb-setup/internal/platform"
	"github.com/claire-de-binare/cdb-setup/internal/secrets"
	"github.com/claire-de-binare/cdb-setup/internal/step"
)

// SecretsInitOptions are the inputs of `cdb-setup secrets init`.
type SecretsInitOptions struct {
	F         *Factory
	Selection SelectionFlags
	Force     bool
	Set       []string // NAME=@FILE or NAME=@-
	Answers   string   // answers file
	// NoKeychain skips the lookup of a keychain copy of missing secrets.
	NoKeychain bool
}

// NewCmdSecretsInit builds `cdb-setup secrets init`.
func NewCmdSecretsInit(f *Factory, runF func(*SecretsInitOptions) error) *cobra.Command {
	opts := &SecretsInitOptions{F: f}
	cmd := &cobra.Command{
		Use:   "init",
		Short: "Create the secrets folder and every secret file the compose files use",
		Long: `Create the secrets folder (only you can enter it) and every secret file:
passwords are generated (32 random letters and digits), the DSN is derived from
POSTGRES_PASSWORD, external secrets (SMTP, exchange keys) are written from
--set/--answers or left as empty files ("not configured") when optional.

An existing secret is never replaced unless you pass --force, and then the old
value is backed up first. Running init again changes nothing.

When secret files are missing but the OS keychain holds a copy (from
` + "`cdb-setup keychain push`" + `), init offers to restore them instead of generating
new ones (when it cannot ask, as with --yes or --no-input, it restores: the
choice that loses nothing): postgres and grafana keep their
first password in their volumes and would refuse a new one. --no-keychain skips
the lookup; --force never restores (it asks for new values).`,
		Example: `  cdb-setup secrets init
  cdb-setup secrets init --set SMTP_PASSWORD=@app-password.txt
  pass show smtp | cdb-setup secrets init --set SMTP_PASSWORD=@-
  cdb-setup secrets init --secrets-path ~/cdb-secrets --dry-run`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(opts)
			}
			return secretsInitRun(opts)
		},
	}
	opts.Selection.register(cmd)
	cmd.Flags().BoolVar(&opts.Force, "force", false, "replace existing secrets (each old value is backed up first)")
	cmd.Flags().StringArrayVar(&opts.Set, "set", nil, "value of an external secret from a file: NAME=@FILE, or NAME=@- for stdin (never a literal value)")
	cmd.Flags().StringVar(&opts.Answers, "answers", "", "YAML answers `FILE` with a secrets: map of external values")
	cmd.Flags().BoolVar(&opts.NoKeychain, "no-keychain", false, "do not look for a keychain copy of missing secrets; generate them")
	return cmd
}

func secretsInitRun(opts *SecretsInitOptions) error {
	f := opts.F
	external, err := externalValues(f, opts.Set, opts.Answers)
	if err != nil {
		return err
	}
	sc, err := loadSecrets(f, opts.Selection)
	if err != nil {
		return err
	}
	var restore []step.Step
	restoring := map[string]bool{}
	if !opts.NoKeychain && !opts.Force {
		var names []string
		restore, names, err = initKeychainRestore(f, sc)
		if err != nil {
			return err
		}
		for _, n := range names {
			restoring[n] = true
			// A restored required secret needs no answer.
			delete(external, n)
		}
	}
	if err := initStopsForVolumes(f, sc, restoring); err != nil {
		return err
	}
	missingRequired := func() []string {
		var out []string
		for _, n := range secrets.MissingRequired(sc.Catalogue, external) {
			if !restoring[n] {
				out = append(out, n)
			}
		}
		return out
	}
	if missing := missingRequired(); len(missing) > 0 && f.CanPrompt() && !f.Global.DryRun {
		for _, name := range missing {
			v, err := promptSecret(f, sc.Catalogue, name)
			if err != nil {
				return err
			}
			external[name] = v
		}
	}
	if missing := missingRequired(); len(missing) > 0 && (!f.CanPrompt() || f.Global.DryRun) {
		fmt.Fprintf(f.IO.ErrOut, "✗ %d required secret(s) have no value and cdb-setup cannot ask (no terminal, --no-input or CI):\n", len(missing))
		var flags []string
		for _, n := range missing {
			fmt.Fprintf(f.IO.ErrOut, "  - %s: pass --set %s=@FILE or an --answers file\n", n, n)
			flags = append(flags, "--set "+n+"=@FILE")
		}
		f.setData(map[string]any{"missing": missing})
		return explained(exitcode.Environment, step.WithFix(
			fmt.Errorf("%d required secret(s) have no value and cdb-setup cannot ask: %s", len(missing), strings.Join(missing, ", ")),
			"pass "+strings.Join(flags, " ")+" or an --answers file"))
	}
	if err := preflight(f, sc); err != nil {
		return err
	}
	steps, err := secrets.InitSteps(secrets.InitOptions{Options: sc.Options, Force: opts.Force, External: external})
	if err != nil {
		return exitcode.New(exitcode.Usage, err)
	}
	if len(restore) > 0 {
		steps = withKeychainRestore(steps, restore, restoring)
	}
	unlock, err := lockUnlessDryRun(f, "cdb-setup secrets init")
	if err != nil {
		return err
	}
	defer unlock()
	return runSecretSteps(f, steps, true)
}

// externalValues collects --answers then --set (a --set wins).
func externalValues(f *Factory, set []string, answers string) (map[string][]byte, error) {
	out := map[string][]byte{}
	if answers != "" {
		b, err := platform.ReadContext(f.ctx(), func() ([]byte, error) { return platform.ReadFileCapped(answers, 1<<20) })
		if f.ctx().Err() != nil {
			return nil, SilentError(exitcode.Interrupted)
		}
		if err != nil {
			return nil, exitcode.Usagef("--answers: %v", err)
		}
		m, err := secrets.ParseAnswers(b)
		if err != nil {
			return nil, exitcode.Usagef("--answers %s: %v", answers, err)
		}
		for k, v := range m {
			out[k] = v
		}
	}
	stdinUsed := false
	for _, a := range set {
		name, v, err := readValueArg(f, a, &stdinUsed)
		if err != nil {
			return nil, err
		}
		out[name] = v
	}
	return out, nil
}

// lockUnlessDryRun takes the run lock for a command that changes things.
func lockUnlessDryRun(f *Factory, what string) (func(), error) {
	if f.Global.DryRun {
		return func() {}, nil
	}
	l, err := f.Lock(what)
	if err != nil {
		return nil, err
	}
	return func() { _ = l.Release() }, nil
}

// readAllLimited reads a secret from stdin; a secret is never megabytes, so
// a runaway pipe is cut off rather than filling memory.
func readAllLimited(r io.Reader) ([]byte, error) {
	return secrets.ReadSecretFrom(r, "stdin")
}

// promptSecret asks for a required external secret on the terminal without
// echoing it.
func promptSecret(f *Factory, c *secrets.Catalogue, name string) ([]byte, error) {
	in, ok := f.IO.In.(*os.File)
	if !ok || !term.IsTerminal(int(in.Fd())) {
		return nil, exitcode.Environmentf("%s has no value and stdin is not a terminal: pass --set %s=@FILE", name, name)
	}
	prompt := "Value for " + name
	if s, ok := c.Get(name); ok && s.Policy.Prompt != "" {
		prompt = s.Policy.Prompt
	}
	fmt.Fprintf(f.IO.ErrOut, "%s (%s, not shown): ", prompt, name)
	// Ctrl-C must end the wait at once; the terminal's echo, which
	// ReadPassword turns off, is put back before the command exits.
	saved, _ := term.GetState(int(in.Fd()))
	b, err := platform.ReadContext(f.ctx(), func() ([]byte, error) { return term.ReadPassword(int(in.Fd())) })
	fmt.Fprintln(f.IO.ErrOut)
	if f.ctx().Err() != nil {
		if saved != nil {
			_ = term.Restore(int(in.Fd()), saved)
		}
		return nil, SilentError(exitcode.Interrupted)
	}
	if err != nil {
		return nil, exitcode.Environmentf("read %s from the terminal: %v", name, err)
	}
	v, err := secrets.NormalizeInputFile(b)
	if err != nil {
		return nil, exitcode.Usagef("%s: %v", name, err)
	}
	return v, nil
}
