package cli

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/claire-de-binare/cdb-setup/internal/exitcode"
	"github.com/claire-de-binare/cdb-setup/internal/platform"
	"github.com/claire-de-binare/cdb-setup/internal/step"
	"github.com/claire-de-binare/cdb-setup/internal/workspace"
)

// EnvSetOptions are the inputs of `cdb-setup env set`.
type EnvSetOptions struct {
	F *Factory

	Shells     bool
	GUI        bool
	WSLENV     bool
	ComposeEnv bool
	Force      bool
	// WSLSecrets chooses, inside WSL, between a WSL-local folder ("local")
	// and the Windows one under /mnt/c ("windows").
	WSLSecrets string

	Run platform.Runner // external programs (launchctl, powershell.exe); nil = real
}

// NewCmdEnvSet builds `cdb-setup env set`.
func NewCmdEnvSet(f *Factory, runF func(*EnvSetOptions) error) *cobra.Command {
	opts := &EnvSetOptions{F: f}
	cmd := &cobra.Command{
		Use:   "set",
		Short: "Persist SECRETS_PATH for your user (shells; opt-in: GUI programs, WSL, compose .env)",
		Long: `Persist SECRETS_PATH so every new shell, IDE and compose run sees it.

Unix: a marked block in ~/.profile, the bash files you have (and ~/.bashrc when
bash is your login shell), zsh's .zshenv (honouring ZDOTDIR), and a file in
fish's conf.d. Windows: HKCU\Environment, announced to running programs.
With --gui: ~/.config/environment.d (Linux) or a LaunchAgent plus launchctl
setenv (macOS), for programs started from the desktop. With --wslenv (Windows):
share it with WSL. With --compose-env: the compose project's .env, only when git
ignores that file.

Every change is recorded; ` + "`cdb-setup env unset`" + ` removes exactly what was added.
An existing, different SECRETS_PATH is kept unless you confirm or pass --force.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.WSLSecrets != "" && opts.WSLSecrets != "local" && opts.WSLSecrets != "windows" {
				return exitcode.Usagef("--wsl-secrets must be local or windows, not %q", opts.WSLSecrets)
			}
			if runF != nil {
				return runF(opts)
			}
			return envSetRun(opts)
		},
	}
	fl := cmd.Flags()
	fl.BoolVar(&opts.Shells, "shells", true, "set it for shells (Windows: the user environment); --shells=false to skip")
	fl.BoolVar(&opts.GUI, "gui", false, "also for programs started from the desktop (Linux environment.d, macOS LaunchAgent)")
	fl.BoolVar(&opts.WSLENV, "wslenv", false, "Windows: add SECRETS_PATH/p to WSLENV so WSL shells see it as a /mnt path")
	fl.BoolVar(&opts.ComposeEnv, "compose-env", false, "also write it into the .env of the compose folder (compose_dir in cdb-setup.yaml; infrastructure/compose for CDB), only if git ignores that file")
	fl.BoolVar(&opts.Force, "force", false, "replace a different SECRETS_PATH that is already set")
	fl.StringVar(&opts.WSLSecrets, "wsl-secrets", "", "inside WSL: use a WSL-local folder (local, default) or the Windows Documents folder under /mnt (windows)")
	return cmd
}

func envSetRun(opts *EnvSetOptions) error {
	f := opts.F
	w := f.IO.ErrOut
	ws, err := f.Workspace()
	if err != nil {
		return err
	}
	facts := ws.Facts
	if opts.Run == nil {
		opts.Run = platform.ExecRunner
	}
	value, err := chooseValue(opts, ws)
	if err != nil {
		return err
	}
	if err := platform.CheckValue(value); err != nil {
		return exitcode.New(exitcode.Usage, err)
	}
	if facts.WSL && strings.HasPrefix(value, "/mnt/") {
		fmt.Fprintf(w, "! %s\n", platform.WSLMountWarning)
	}

	stateDir, err := f.StateDir()
	if err != nil {
		return err
	}
	if !f.Global.DryRun {
		lock, err := f.Lock("cdb-setup env set")
		if err != nil {
			return err
		}
		defer lock.Release()
	}
	st, err := platform.LoadState(stateDir)
	if err != nil {
		return err
	}
	po := platform.PersistOptions{
		Value: value, Facts: facts, Env: f.Env, State: st, StateDir: stateDir,
		Shells: opts.Shells, GUI: opts.GUI, WSLENV: opts.WSLENV, Run: opts.Run,
	}
	if opts.WSLENV && facts.OS != "windows" {
		fmt.Fprintln(w, "- --wslenv only applies on Windows (it shares a Windows variable with WSL); ignored here")
	}
	if opts.ComposeEnv {
		p, err := composeEnvTarget(f)
		if err != nil {
			return err
		}
		po.ComposeEnv = p
	}
	steps, err := platform.PersistEnvSteps(po)
	if err != nil {
		return exitcode.New(exitcode.Failed, err)
	}
	if len(steps) == 0 {
		return exitcode.Usagef("nothing to do: pass --shells, --gui, --wslenv or --compose-env")
	}
	fmt.Fprintf(w, "SECRETS_PATH=%s\n", value)
	rep, err := runSteps(f, steps, false)
	if err != nil {
		return err
	}
	changed := false
	for _, r := range rep.Results {
		changed = changed || r.Status == step.StatusChanged
	}
	if changed {
		fmt.Fprintln(w, "What to restart:")
		for _, n := range platform.RestartNotes(po) {
			fmt.Fprintf(w, "  • %s\n", n)
		}
		fmt.Fprintln(w, "Check with `cdb-setup env status`; undo with `cdb-setup env unset`.")
	} else if !f.Global.DryRun {
		fmt.Fprintln(w, "Nothing changed: SECRETS_PATH was already set everywhere; nothing needs a restart.")
	}
	return nil
}

// composeEnvTarget is the .env of the workspace's compose folder, refused
// unless git confirms it is ignored.
func composeEnvTarget(f *Factory) (string, error) {
	ws, err := f.repoWorkspace()
	if err != nil {
		return "", err
	}
	p := composeEnvFile(ws)
	if st, err := os.Stat(ws.ComposeDir); err != nil || !st.IsDir() {
		return "", exitcode.Environmentf("%s does not exist: --compose-env needs the CDB repository (pass --repo DIR)", ws.ComposeDir)
	}
	ignored, err := gitIgnores(f.ctx(), ws.Repo, p)
	if err != nil {
		return "", exitcode.Environmentf("cannot ask git whether %s is ignored (%v): leave out --compose-env", p, err)
	}
	if !ignored {
		rel := path.Join(ws.Manifest.ComposeDir, ".env")
		return "", exitcode.New(exitcode.Failed, fmt.Errorf("git does not ignore %s, so SECRETS_PATH written there could be committed: add `%s` to .gitignore first, or leave out --compose-env", p, rel))
	}
	return p, nil
}

// chooseValue decides the value: the workspace's secrets folder, except
// that in WSL, when only the default applies, the user picks the WSL-local or
// the Windows folder — and then what to do about a different value that is
// already set.
func chooseValue(opts *EnvSetOptions, ws *workspace.Workspace) (string, error) {
	f := opts.F
	w := f.IO.ErrOut
	facts := ws.Facts
	want := ws.SecretsDir
	if ws.SecretsSource == workspace.SecretsFromDefault && facts.WSL {
		choice := opts.WSLSecrets
		if choice == "" && f.CanPrompt() {
			ok, err := confirm(f, "Inside WSL: use the Windows Documents folder (/mnt/c/..., shared with Windows Docker Desktop; Linux permissions cannot be enforced there)? No keeps a WSL-local folder.")
			if err != nil {
				return "", err
			}
			if ok {
				choice = "windows"
			}
		}
		want = facts.DefaultSecretsPath()
		if choice == "windows" {
			docs, err := platform.WindowsDocumentsFromWSL(f.ctx(), opts.Run)
			if err != nil {
				return "", exitcode.Environmentf("%v: pass --secrets-path /mnt/c/Users/<you>/Documents/.secrets/.cdb, or use --wsl-secrets local", err)
			}
			want = filepath.Join(docs, ".secrets", ".cdb")
		}
	}

	existing, where := existingValue(f, facts)
	if existing == "" || filepath.Clean(existing) == filepath.Clean(want) || opts.Force {
		return want, nil
	}
	if f.CanPrompt() {
		ok, err := confirm(f, fmt.Sprintf("SECRETS_PATH is already %s (%s). Replace it with %s?", existing, where, want))
		if err != nil {
			return "", err
		}
		if ok {
			return want, nil
		}
	} else {
		fmt.Fprintf(w, "! SECRETS_PATH is already %s (%s); keeping it. Pass --force to use %s instead.\n", existing, where, want)
	}
	return existing, nil
}

// existingValue is the SECRETS_PATH already in effect for this user: one
// cdb-setup manages (registry, our rc block), else one the user set
// themselves and this process inherited.
func existingValue(f *Factory, facts platform.Facts) (string, string) {
	for _, p := range platform.EnvPlaces(platform.StatusOptions{Facts: facts, Env: f.Env}) {
		if p.Managed && p.Known && p.Value != "" {
			return p.Value, p.Where
		}
	}
	if v, ok := f.Env.LookupEnv(platform.EnvVar); ok && v != "" {
		return v, "in this shell's environment"
	}
	return "", ""
}
