package cli

import (
	"fmt"
	"os"
	"path/filepath"
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
		Short: "The pre-commit hook against committing secrets: install, status, uninstall, scan",
		Long: `Protect this clone against committing secrets: a pre-commit hook runs
` + "`cdb-setup hook scan`" + ` on the staged changes: the current values of the secrets in
your secrets folder (read at commit time, never stored), then gitleaks with the
repository's gitleaks.toml plus a rule for connection URIs with a password.
With the pre-commit framework in use, the hooks are added to
.pre-commit-config.yaml instead; a hook that was already installed is kept and
still runs first. See docs/security.md for what it blocks and cannot see.`,
	}
	cmd.AddCommand(NewCmdHookInstall(f, nil), NewCmdHookStatus(f, nil), NewCmdHookUninstall(f, nil), NewCmdHookScan(f, nil))
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
	cmd.Flags().BoolVar(&opts.InstallGitleaks, "install-gitleaks", false, "install gitleaks with go install when it is missing")
	return cmd
}

// hookOptions builds the hook package's options from the workspace: its
// clone, and its secrets folder (the hook keeps it out of commits).
func hookOptions(f *Factory, withState bool) (hook.Options, func(), error) {
	ws, err := f.repoWorkspace()
	if err != nil {
		return hook.Options{}, nil, err
	}
	opts := hook.Options{Repo: ws.Repo, Env: f.Env, GOOS: runtime.GOOS, SecretsPath: ws.SecretsDir, Self: selfPath()}
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

// selfPath is this binary, for the native hook to run `hook scan`; "" under
// `go test` (the test binary is not cdb-setup: the hook then uses PATH).
func selfPath() string {
	p, err := os.Executable()
	if err != nil {
		return ""
	}
	base := strings.TrimSuffix(filepath.Base(p), ".exe")
	if strings.HasSuffix(base, ".test") {
		return ""
	}
	return p
}

// HookScanOptions are the inputs of `cdb-setup hook scan`.
type HookScanOptions struct {
	F        *Factory
	Gitleaks string
	// RepoFlag is true when --repo was given on the command line; else the
	// working folder decides (git starts hooks in the work tree being
	// committed, which CDB_SETUP_REPO may not name: a linked worktree).
	RepoFlag bool
}

// NewCmdHookScan builds `cdb-setup hook scan`, what the pre-commit hook runs.
func NewCmdHookScan(f *Factory, runF func(*HookScanOptions) error) *cobra.Command {
	opts := &HookScanOptions{F: f}
	cmd := &cobra.Command{
		Use:   "scan",
		Short: "Check the staged changes for secrets (what the pre-commit hook runs)",
		Long: `Check the staged changes of this clone, as the pre-commit hook does:
  - every staged file for the current value of any secret in the secrets
    folder (read now and compared in memory; no value is stored anywhere);
  - gitleaks with the repository's gitleaks.toml plus a rule for connection
    URIs with an embedded password (postgresql://user:password@host), through
    a temporary config that extends the repository's (which is not changed).
Exit 1 when the commit must be blocked. Messages name the file and the
secret, never the value.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if fl := cmd.Flag("repo"); fl != nil {
				opts.RepoFlag = fl.Changed
			}
			if runF != nil {
				return runF(opts)
			}
			return hookScanRun(opts)
		},
	}
	cmd.Flags().StringVar(&opts.Gitleaks, "gitleaks", "", "the gitleaks `binary` to run (default: found as hook install finds it)")
	return cmd
}

func hookScanRun(o *HookScanOptions) error {
	f := o.F
	// The workspace gives the secrets folder by the one precedence order
	// (docs/workspace.md), the same folder every other command uses.
	ws, err := f.Workspace()
	if err != nil {
		return err
	}
	repo := "."
	if o.RepoFlag {
		if err := ws.NeedRepo(); err != nil {
			return err
		}
		repo = ws.Repo
	}
	sp := ws.SecretsDir
	w := f.IO.ErrOut
	res, err := hook.ScanStaged(f.ctx(), hook.ScanOptions{
		Repo: repo, Env: f.Env, SecretsPath: sp, Gitleaks: o.Gitleaks,
		Stdout: f.IO.ErrOut, Stderr: f.IO.ErrOut,
	})
	if err != nil {
		fmt.Fprintf(w, "cdb-setup hook: commit blocked: the staged changes could not be checked: %v\n", err)
		return SilentError(1)
	}
	f.setData(res)
	if sp == "" {
		fmt.Fprintln(w, "cdb-setup hook: warning: no secrets folder is known (pass --secrets-path): secret values were not checked")
	} else if _, err := os.Stat(sp); err != nil {
		fmt.Fprintf(w, "cdb-setup hook: warning: the secrets folder %s is not there: secret values were not checked\n", sp)
	}
	for _, s := range res.Skipped {
		fmt.Fprintf(w, "cdb-setup hook: warning: not looked for: %s\n", s)
	}
	for _, fd := range res.Findings {
		fmt.Fprintf(w, "cdb-setup hook: %s contains the current value of the secret %s (from %s)\n", fd.File, fd.Secret, sp)
	}
	if len(res.Findings) > 0 {
		fmt.Fprintln(w, "cdb-setup hook: commit blocked: unstage the file (git restore --staged <file>) and remove the value; if it was ever pushed, treat the secret as public and change it (see `cdb-setup secrets rotate --help`).")
	}
	if res.GitleaksFailed {
		// File, line and rule only: gitleaks' match and line can show the
		// value whatever --redact masks (see hook.runGitleaks).
		for _, g := range res.GitleaksFindings {
			fmt.Fprintf(w, "cdb-setup hook: %s:%d: gitleaks rule %s\n", g.File, g.Line, g.RuleID)
		}
		fmt.Fprintln(w, "cdb-setup hook: commit blocked: gitleaks reported a secret in the staged changes (the value is not shown).")
		if len(res.GitleaksFindings) == 0 {
			fmt.Fprintln(w, "cdb-setup hook: gitleaks did not say where (its messages are above).")
		}
		fmt.Fprintln(w, "Unstage it (git restore --staged <file>), move the value to your secrets folder, and commit again. A false positive goes into .gitleaksignore.")
	}
	if res.Blocked() {
		return SilentError(1)
	}
	return nil
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
	w := f.reportOut()
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
