package cli

import (
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/claire-de-binare/cdb-setup/internal/exitcode"
	"github.com/claire-de-binare/cdb-setup/internal/secrets"
	"github.com/claire-de-binare/cdb-setup/internal/step"
)

// KeychainOptions are the inputs of `cdb-setup keychain push|pull|status`.
type KeychainOptions struct {
	F *Factory
	// Action is "push", "pull" or "status".
	Action string
	// Force lets pull replace a differing non-empty file (after a backup).
	Force bool
	// Timeout bounds each keychain call.
	Timeout time.Duration
	// Keychain overrides the OS keychain (tests); nil means the real one.
	Keychain *secrets.Keychain
}

// NewCmdKeychain builds the `keychain` command group.
func NewCmdKeychain(f *Factory, runF func(*KeychainOptions) error) *cobra.Command {
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "keychain",
		Short: "Mirror the secret files into the OS keychain and restore them from it",
		Long: `The keychain mirror keeps a copy of every secret file in the macOS Keychain,
the Windows Credential Manager or the Linux Secret Service (GNOME Keyring,
KWallet, KeePassXC). When the secrets folder is lost, pull restores the exact
bytes, so postgres and grafana, whose volumes keep the old passwords, still
accept them. The files stay the source of truth; see docs/keychain.md.`,
	}
	cmd.PersistentFlags().DurationVar(&timeout, "keychain-timeout", secrets.DefaultKeychainTimeout, "deadline of each keychain call (a locked keychain must not hang)")

	sub := func(action, short, long string, force bool) *cobra.Command {
		opts := &KeychainOptions{F: f, Action: action}
		c := &cobra.Command{
			Use:   action,
			Short: short,
			Long:  long,
			Args:  cobra.NoArgs,
			RunE: func(cmd *cobra.Command, args []string) error {
				opts.Timeout = timeout
				if runF != nil {
					return runF(opts)
				}
				return keychainRun(opts)
			},
		}
		if force {
			c.Flags().BoolVar(&opts.Force, "force", false, "replace files that differ from the keychain copy (each is backed up first)")
		}
		return c
	}
	cmd.AddCommand(
		sub("push", "Mirror every secret file into the OS keychain",
			"Copies the exact bytes of every secret file into the OS keychain, under a service named after the\nstack and the secrets folder, and writes an index of what was mirrored.", false),
		sub("pull", "Restore missing secret files from the OS keychain",
			"Writes every mirrored secret whose file is missing or empty. A file that differs from its keychain\ncopy is kept unless --force, which backs it up first.", true),
		sub("status", "Compare the secret files with their keychain copies",
			"Per secret: in sync, differs, only in file, only in keychain. Reads only the index from the keychain.", false),
	)
	return cmd
}

func keychainRun(opts *KeychainOptions) error {
	f := opts.F
	m, err := keychainMirror(opts)
	if err != nil {
		return err
	}
	switch opts.Action {
	case "status":
		return keychainStatusRun(opts, m)
	case "push":
		lock, err := f.Lock("cdb-setup keychain push")
		if err != nil {
			return err
		}
		defer lock.Release()
		if m.StateDir, err = f.StateDir(); err != nil {
			return err
		}
		rep, err := runSteps(f, secrets.KeychainPushSteps(m), true)
		return keychainExit(rep, err)
	case "pull":
		lock, err := f.Lock("cdb-setup keychain pull")
		if err != nil {
			return err
		}
		defer lock.Release()
		rep, err := runSteps(f, secrets.KeychainPullSteps(m, opts.Force), true)
		return keychainExit(rep, err)
	}
	return exitcode.Usagef("unknown keychain action %q", opts.Action)
}

// keychainExit turns "no usable keychain" into exit code 3 (something
// outside us is missing), keeping 1 for failures of single secrets.
func keychainExit(rep step.Report, err error) error {
	for _, r := range rep.Results {
		if r.Step == "keychain.reach" && r.Status == step.StatusFailed && secrets.KeychainUnavailable(r.Err) {
			return SilentError(exitcode.Environment)
		}
	}
	return err
}

// keychainMirror is the mirror of the workspace's secrets folder, under the
// workspace's project (the service doctor and the secrets commands read).
func keychainMirror(opts *KeychainOptions) (*secrets.KeychainMirror, error) {
	f := opts.F
	ws, err := f.repoWorkspace()
	if err != nil {
		return nil, err
	}
	// The folder heads status's report (stdout); for push and pull it is
	// progress (stderr).
	var w io.Writer = f.IO.ErrOut
	if opts.Action == "status" {
		w = f.reportOut()
	}
	fmt.Fprintf(w, "Secrets folder: %s (%s)\n", ws.SecretsDir, ws.SecretsSource)
	cat, err := secrets.Discover(f.ctx(), secrets.DiscoverOptions{Repo: ws.Repo, Manifest: ws.Manifest, Dir: ws.SecretsDir, Env: f.Env, CacheDir: f.catalogueCache(ws)})
	if err != nil {
		return nil, err
	}
	kc := opts.Keychain
	if kc == nil {
		kc = &secrets.Keychain{}
	}
	kc.Timeout = opts.Timeout
	mirror := secrets.NewKeychainMirror(kc, ws.Project, cat)
	// Restored files get the mode `secrets init` gives them by default.
	mirror.Mode, _ = secrets.DefaultFileMode(ws.Facts)
	return mirror, nil
}

func keychainStatusRun(opts *KeychainOptions, m *secrets.KeychainMirror) error {
	f := opts.F
	st, err := m.Status(f.ctx())
	if err != nil {
		// Main prints it with its fix.
		if secrets.KeychainUnavailable(err) {
			return exitcode.New(exitcode.Environment, err)
		}
		return exitcode.New(exitcode.Failed, err)
	}
	f.setData(st)
	printKeychainStatus(f.reportOut(), st)
	return nil
}

func printKeychainStatus(w io.Writer, st secrets.KeychainStatus) {
	if !st.Mirrored {
		fmt.Fprintf(w, "Nothing mirrored yet for %s (service %s): run `cdb-setup keychain push`.\n", st.Dir, st.Service)
	} else {
		fmt.Fprintf(w, "Keychain mirror of %s (service %s, updated %s):\n", st.Dir, st.Service, st.Updated.Local().Format(time.RFC3339))
	}
	for _, e := range st.Secrets {
		icon, text := "•", ""
		switch e.State {
		case secrets.KeychainInSync:
			icon, text = "✓", "in sync"
		case secrets.KeychainDiffers:
			icon, text = "✗", "differs (push to mirror the file, or pull --force to restore the keychain copy)"
		case secrets.KeychainOnlyInFile:
			icon, text = "•", "only in file (push to mirror it)"
		case secrets.KeychainOnlyInKeychain:
			icon, text = "!", "only in keychain (pull to restore it)"
		case secrets.KeychainMissing:
			icon, text = "-", "in neither (create it with `cdb-setup secrets init`)"
		case secrets.KeychainFileProblem:
			icon, text = "✗", e.Problem
		}
		fmt.Fprintf(w, "  %s %-24s %s\n", icon, e.Name, text)
	}
}
