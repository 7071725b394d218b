package cli

import (
	"fmt"
	"runtime"
	"strings"

	"github.com/spf13/cobra"

	"github.com/claire-de-binare/cdb-setup/internal/exitcode"
	"github.com/claire-de-binare/cdb-setup/internal/hook"
	"github.com/claire-de-binare/cdb-setup/internal/platform"
)

// NewCmdHook builds `cdb-setup hook` and its subcommands.
func NewCmdHook(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "hook",
		Short: "The gitleaks pre-commit hook: install, status, uninstall",
		Long: `Protect this clone against committing secrets: a pre-commit hook runs gitleaks
on the staged changes with the repository's gitleaks.toml. With the pre-commit
framework in use, the hook is added to .pre-commit-config.yaml instead; a hook
that was already installed is kept and still runs first.`,
	}
	cmd.AddCommand(NewCmdHookInstall(f, nil), NewCmdHookStatus(f, nil), NewCmdHookUninstall(f, nil))
	return cmd
}

// HookInstallOptions are the inputs of `cdb-setup hook install`.
type HookInstallOptions struct {
	F               *Factory
	InstallGitleaks bool
}

// NewCmdHookInstall builds `cdb-setup hook install`.
func NewCmdHookInstall(f *Factory, runF func(*HookInstallOptions) error) *cobra.Command {
	opts := &HookInstallOptions{F: f}
	cmd := &cobra.Command{
		Use:   "install",
		Short: "Install gitleaks protection for this clone",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(opts)
			}
			return hookInstallRun(opts)
		},
	}
	cmd.Flags().BoolVar(&opts.InstallGitleaks, "install-gitleaks", false, "install gitleaks with `go install` when it is missing")
	return cmd
}

// hookOptions builds the hook package's options from the workspace: its
// clone, and its secrets folder (the hook keeps it out of commits).
func hookOptions(f *Factory, withState bool) (hook.Options, func(), error) {
	ws, err := f.repoWorkspace()
	if err != nil {
		return hook.Options{}, nil, err
	}
	opts := hook.Options{Repo: ws.Repo, Env: f.Env, GOOS: runtime.GOOS, SecretsPath: ws.SecretsDir}
	release := func() {}
	if withState && !f.Global.DryRun {
		lock, err := f.Lock("cdb-setup hook")
		if err != nil {
			return opts, nil, err
		}
		release = func() { lock.Release() }
		dir, err := f.StateDir()
		if err != nil {
			release()
			return opts, nil, err
		}
		st, err := platform.LoadState(dir)
		if err != nil {
			release()
			return opts, nil, err
		}
		opts.State = st
	}
	return opts, release, nil
}

func hookInstallRun(o *HookInstallOptions) error {
	f := o.F
	opts, release, err := hookOptions(f, true)
	if err != nil {
		return err
	}
	defer release()
	opts.InstallGitleaks = o.InstallGitleaks
	steps, err := hook.InstallSteps(f.ctx(), opts)
	if err != nil {
		return err
	}
	_, err = runSteps(f, steps, false)
	return err
}

// HookStatusOptions are the inputs of `cdb-setup hook status`.
type HookStatusOptions struct{ F *Factory }

// NewCmdHookStatus builds `cdb-setup hook status`.
func NewCmdHookStatus(f *Factory, runF func(*HookStatusOptions) error) *cobra.Command {
	opts := &HookStatusOptions{F: f}
	return &cobra.Command{
		Use:   "status",
		Short: "Show whether this clone is protected: hook, gitleaks, config, chained hooks",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(opts)
			}
			return hookStatusRun(opts)
		},
	}
}

func hookStatusRun(o *HookStatusOptions) error {
	f := o.F
	opts, _, err := hookOptions(f, false)
	if err != nil {
		return err
	}
	st, err := hook.Inspect(f.ctx(), opts)
	if err != nil {
		return err
	}
	f.setData(st)
	w := f.IO.ErrOut
	mark := func(ok bool) string {
		if ok {
			return "✓"
		}
		return "✗"
	}
	fmt.Fprintf(w, "%s protected: %v (%s)\n", mark(st.Protected), st.Protected, st.Mode)
	fmt.Fprintf(w, "  hook:      %s\n", st.HookPath)
	if st.HooksPathConfig != "" {
		fmt.Fprintf(w, "  core.hooksPath: %s\n", st.HooksPathConfig)
	}
	if st.HookVersion > 0 {
		fmt.Fprintf(w, "  script:    v%d (current: %v)\n", st.HookVersion, st.HookCurrent)
	}
	if st.Chained != "" {
		fmt.Fprintf(w, "  chained:   %s (runs first)\n", st.Chained)
	}
	if st.Gitleaks.Found {
		via := "git --pre-commit"
		if !st.Gitleaks.GitCommand {
			via = "protect --staged (deprecated)"
		}
		fmt.Fprintf(w, "  gitleaks:  %s %s, via %s\n", st.Gitleaks.Path, st.Gitleaks.Version, via)
	} else {
		fmt.Fprintln(w, "  gitleaks:  not found")
	}
	cfg := st.Config
	if cfg == "" {
		cfg = "(none: default rules)"
	}
	fmt.Fprintf(w, "  config:    %s\n", cfg)
	for _, m := range st.Managers {
		fmt.Fprintf(w, "  manager:   %s (%s)\n", m.Name, m.Config)
	}
	for _, p := range st.Problems {
		fmt.Fprintf(w, "  ✗ %s\n", p)
	}
	if !st.Protected {
		return explained(exitcode.Failed, fmt.Errorf("the pre-commit hook does not protect this repository: %s", strings.Join(st.Problems, "; ")))
	}
	return nil
}

// HookUninstallOptions are the inputs of `cdb-setup hook uninstall`.
type HookUninstallOptions struct{ F *Factory }

// NewCmdHookUninstall builds `cdb-setup hook uninstall`.
func NewCmdHookUninstall(f *Factory, runF func(*HookUninstallOptions) error) *cobra.Command {
	opts := &HookUninstallOptions{F: f}
	return &cobra.Command{
		Use:   "uninstall",
		Short: "Remove the gitleaks hook and restore exactly what was there before",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(opts)
			}
			return hookUninstallRun(opts)
		},
	}
}

func hookUninstallRun(o *HookUninstallOptions) error {
	f := o.F
	opts, release, err := hookOptions(f, true)
	if err != nil {
		return err
	}
	defer release()
	steps, err := hook.UninstallSteps(f.ctx(), opts)
	if err != nil {
		return err
	}
	_, err = runSteps(f, steps, true)
	return err
}
