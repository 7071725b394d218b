package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/claire-de-binare/cdb-setup/internal/hook"
	"github.com/claire-de-binare/cdb-setup/internal/platform"
	"github.com/claire-de-binare/cdb-setup/internal/secrets"
)

// undoKinds maps every kind of recorded change to the function that undoes
// it. Adding a kind (hook, keychain, secrets-folder) is one entry here;
// records of a kind missing from this table are reported and kept, never
// silently dropped. A package with a plain Undo(ctx, Record) error plugs in
// through platform.UndoerFunc, e.g. hook.Kind: platform.UndoerFunc(hook.Undo).
var undoKinds = func() map[string]platform.Undoer {
	m := platform.EnvUndoers()
	m[hook.Kind] = platform.UndoerFunc(hook.Undo)
	m[secrets.KeychainRecordKind] = platform.UndoerFunc((&secrets.Keychain{}).Purge)
	return m
}()

// secretsKind is the record of the secrets folder (written by `secrets
// init`). Uninstall keeps secrets unless --purge.
const secretsKind = "secrets-folder"

// UninstallOptions are the inputs of `cdb-setup uninstall`.
type UninstallOptions struct {
	F     *Factory
	Purge bool
	Run   platform.Runner
}

// NewCmdUninstall builds `cdb-setup uninstall`.
func NewCmdUninstall(f *Factory, runF func(*UninstallOptions) error) *cobra.Command {
	opts := &UninstallOptions{F: f}
	cmd := &cobra.Command{
		Use:   "uninstall",
		Short: "Undo every change cdb-setup recorded (keeps your secrets unless --purge)",
		Long: `Undo every change recorded in the state file, newest first: SECRETS_PATH settings,
hooks, keychain entries. Also removes cdb-setup's block from the usual rc files
when there is no record of it. The secrets folder is kept unless --purge.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(opts)
			}
			return uninstallRun(opts)
		},
	}
	cmd.Flags().BoolVar(&opts.Purge, "purge", false, "also delete the secrets folder and its files")
	return cmd
}

func uninstallRun(opts *UninstallOptions) error {
	f := opts.F
	w := f.IO.ErrOut
	var recs []platform.Record
	var kept []platform.Record
	steps, st, release, err := undoPlan(f, "cdb-setup uninstall", opts.Run, opts.Purge, func(r platform.Record) bool {
		// Without --purge the secrets stay, and so do their keychain
		// mirror and the records of both.
		if (r.Kind == secretsKind || r.Kind == secrets.KeychainRecordKind) && !opts.Purge {
			kept = append(kept, r)
			return false
		}
		return true
	}, undoKinds, &recs)
	if err != nil {
		return err
	}
	defer release()
	for _, r := range kept {
		if r.Kind == secrets.KeychainRecordKind {
			fmt.Fprintf(w, "- keychain mirror %s kept (pass --purge to delete it)\n", r.Target)
			continue
		}
		fmt.Fprintf(w, "- secrets kept in %s (pass --purge to delete them)\n", r.Target)
	}
	if !keptKind(kept, secretsKind) && !opts.Purge {
		if facts, err := f.Facts(); err == nil {
			p := f.Global.SecretsPath
			if p == "" {
				p = facts.DefaultSecretsPath()
			}
			fmt.Fprintf(w, "- secrets are never removed without --purge (%s is left as it is)\n", p)
		}
	}
	if _, ok := undoKinds[secretsKind]; opts.Purge && !ok {
		// Honest until the secrets package registers its undo: say what
		// --purge would remove rather than pretend it did.
		p := f.Global.SecretsPath
		if facts, err := f.Facts(); err == nil && p == "" {
			p = facts.DefaultSecretsPath()
		}
		fmt.Fprintf(w, "! --purge: this build cannot delete the secrets folder yet; %s is kept (delete it yourself if you want it gone)\n", p)
	}
	if len(steps) == 0 {
		fmt.Fprintf(w, "✓ nothing recorded in %s; nothing to undo\n", st.Path())
		return nil
	}
	_, err = runSteps(f, steps, true)
	return err
}

func keptKind(recs []platform.Record, kind string) bool {
	for _, r := range recs {
		if r.Kind == kind {
			return true
		}
	}
	return false
}
