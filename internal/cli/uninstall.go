package cli

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/claire-de-binare/cdb-setup/internal/hook"
	"github.com/claire-de-binare/cdb-setup/internal/manifest"
	"github.com/claire-de-binare/cdb-setup/internal/platform"
	"github.com/claire-de-binare/cdb-setup/internal/secrets"
	"github.com/claire-de-binare/cdb-setup/internal/step"
	"github.com/claire-de-binare/cdb-setup/internal/volpass"
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
	// A volume's password fingerprint changed nothing outside the state.
	m[volpass.Kind] = platform.UndoerFunc(volpass.Undo)
	// Without names Purge deletes only backups and temp files; uninstall
	// --purge replaces this entry with one that knows the catalogue.
	m[secretsKind] = secretsFolderUndoer(nil)
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
	table := undoKinds
	if opts.Purge {
		// The folder's undo knows which files are secrets: the catalogue
		// (when the repository is available) and what was mirrored from it.
		table = map[string]platform.Undoer{}
		for k, v := range undoKinds {
			table[k] = v
		}
		table[secretsKind] = secretsFolderUndoer(func(dir string) ([]string, string) { return purgeNames(f, dir, recs) })
	}
	steps, st, release, err := undoPlan(f, "cdb-setup uninstall", opts.Run, opts.Purge, func(r platform.Record) bool {
		// Without --purge the secrets stay, and so do their keychain
		// mirror and the records of both.
		if (r.Kind == secretsKind || r.Kind == secrets.KeychainRecordKind) && !opts.Purge {
			kept = append(kept, r)
			return false
		}
		return true
	}, table, &recs)
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
		if ws, err := f.Workspace(); err == nil {
			fmt.Fprintf(w, "- secrets are never removed without --purge (%s is left as it is)\n", ws.SecretsDir)
		}
	}
	if opts.Purge {
		folders := 0
		for _, r := range recs {
			if r.Kind == secretsKind {
				folders++
			}
		}
		if folders == 0 {
			if ws, err := f.Workspace(); err == nil {
				fmt.Fprintf(w, "- --purge: the state file records no secrets folder created by cdb-setup; %s is left as it is (cdb-setup deletes only a folder it created)\n", ws.SecretsDir)
			}
		}
	}
	notUndone(f)
	if len(steps) == 0 {
		if len(kept) > 0 {
			// The records exist; they are kept on purpose (see above).
			fmt.Fprintf(w, "✓ nothing else to undo: %d recorded change(s) in %s kept (listed above)\n", len(kept), st.Path())
			return nil
		}
		fmt.Fprintf(w, "✓ nothing recorded in %s; nothing to undo\n", st.Path())
		return nil
	}
	_, err = runSteps(f, steps, true)
	return err
}

// notUndone says what uninstall leaves alone on purpose — the stack's
// containers and volumes, which are compose's, not recorded changes — and
// the commands that remove them, down --volumes last: it deletes data.
func notUndone(f *Factory) {
	w := f.IO.ErrOut
	ws, err := f.Workspace()
	if err != nil || ws.NeedRepo() != nil || !isDir(ws.ComposeDir) {
		fmt.Fprintln(w, "- not undone: the stack's containers and volumes (uninstall never touches them); in your clone, `cdb-setup down` stops and removes the containers, and `cdb-setup down --volumes` also deletes the volumes and their data")
		return
	}
	fmt.Fprintf(w, "- not undone: the stack %s (its containers, running or not, and its volumes; uninstall never touches them):\n", ws.Project)
	fmt.Fprintf(w, "    `%s` stops and removes the containers, keeping the volumes\n", rerunCommand(f, "down", nil))
	fmt.Fprintf(w, "    `%s` also deletes the volumes and the data in them (asks first; the last option)\n", rerunCommand(f, "down", []string{"--volumes"}))
}

func isDir(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}

func keptKind(recs []platform.Record, kind string) bool {
	for _, r := range recs {
		if r.Kind == kind {
			return true
		}
	}
	return false
}

// secretsFolderUndoer deletes a secrets folder cdb-setup created, with
// secrets.Purge: only the secret files names() lists, their backups and
// temp files, then the folder if nothing else is left. What stays is
// reported with the reason, and the record is kept (skipped) so a later
// `uninstall --purge` still knows the folder. names == nil means no names
// (Purge's own safe behaviour). Without --purge nothing is deleted.
func secretsFolderUndoer(names func(dir string) ([]string, string)) platform.Undoer {
	return func(ctx context.Context, uc platform.UndoContext, r platform.Record) step.Result {
		dir := r.Target
		if !uc.Purge {
			return step.Result{Step: r.Step, Status: step.StatusSkipped, Detail: fmt.Sprintf("secrets kept in %s (pass --purge to delete them)", dir)}
		}
		var known []string
		why := "without the repository cdb-setup cannot tell which files are secrets (pass --repo DIR)"
		if names != nil {
			known, why = names(dir)
		}
		removed, err := secrets.Purge(dir, known)
		fields := map[string]any{"path": dir, "removed": len(removed)}
		if err != nil {
			res := step.Failed(r.Step, fmt.Errorf("purge the secrets folder %s: %w", dir, err), "delete what is left of "+dir+" yourself, or fix the error and run `cdb-setup uninstall --purge` again")
			res.Fields = fields
			return res
		}
		ents, lerr := os.ReadDir(dir)
		if errors.Is(lerr, fs.ErrNotExist) {
			detail := fmt.Sprintf("deleted the secrets folder %s (%d files and backups)", dir, len(removed))
			if parents := removeCreatedParents(r); len(parents) > 0 {
				fields["parents_removed"] = parents
				detail += " and the empty " + strings.Join(parents, ", ") + " created with it"
			}
			return step.Result{Step: r.Step, Status: step.StatusChanged, Fields: fields, Detail: detail}
		}
		var left []string
		for _, e := range ents {
			left = append(left, e.Name())
		}
		fields["left"] = left
		return step.Result{Step: r.Step, Status: step.StatusSkipped, Fields: fields,
			Detail: fmt.Sprintf("secrets folder %s kept: %d entries removed, %s left (%s); delete them yourself if you want the folder gone",
				dir, len(removed), strings.Join(left, ", "), leftReason(known, why))}
	}
}

// leftReason says why Purge left entries: it deletes only the secret files
// it knows (known, and where that list comes from: from), their backups and
// temp files, and a folder in a secret's place only when it is empty.
func leftReason(known []string, from string) string {
	if len(known) == 0 {
		return "not deleted: " + from
	}
	return "cdb-setup deletes only the secret files " + from + ", their backups and temp files"
}

// purgeNames lists the secret files of dir that uninstall --purge may
// delete: the catalogue of the repository's compose files, plus what a
// keychain push mirrored from dir (recorded in the state file).
func purgeNames(f *Factory, dir string, recs []platform.Record) ([]string, string) {
	var names []string
	why := "without the repository cdb-setup cannot tell which files are secrets (pass --repo DIR)"
	// The repo recorded when the folder was created comes first: uninstall
	// may run from anywhere, long after.
	repo := ""
	for _, r := range recs {
		if r.Kind == secretsKind && filepath.Clean(r.Target) == filepath.Clean(dir) && r.Data["repo"] != "" {
			if st, err := os.Stat(r.Data["repo"]); err == nil && st.IsDir() {
				repo = r.Data["repo"]
			}
		}
	}
	if ws, err := f.Workspace(); repo == "" && err == nil {
		repo = ws.Repo
	}
	if repo != "" {
		if man, _, err := manifest.Load(repo); err != nil {
			why = fmt.Sprintf("the stack manifest of %s cannot be read (%s), so cdb-setup cannot tell which files are secrets", repo, oneLine(err))
		} else if cat, err := secrets.Discover(f.ctx(), secrets.DiscoverOptions{Repo: repo, Manifest: man, Dir: dir, Env: f.Env}); err != nil {
			why = fmt.Sprintf("the compose files of %s cannot be read (%s), so cdb-setup cannot tell which files are secrets", repo, oneLine(err))
		} else {
			names = append(names, cat.Names()...)
			return appendMirrored(names, dir, recs), "the compose files of " + repo + " name"
		}
	}
	if mirrored := appendMirrored(nil, dir, recs); len(mirrored) > 0 {
		return mirrored, "the keychain mirror recorded (" + why + ")"
	}
	return nil, why
}

// appendMirrored adds the names a keychain push mirrored from dir.
func appendMirrored(names []string, dir string, recs []platform.Record) []string {
	for _, r := range recs {
		if r.Kind == secrets.KeychainRecordKind && filepath.Clean(r.Data["dir"]) == filepath.Clean(dir) {
			for _, n := range strings.Split(r.Data["names"], "\n") {
				if n != "" {
					names = append(names, n)
				}
			}
		}
	}
	return names
}

// removeCreatedParents removes the parent folders `secrets init` created
// along with the secrets folder (recorded deepest first, e.g.
// Documents\.secrets), each only while it is empty: a folder that holds
// anything else is the user's now.
func removeCreatedParents(r platform.Record) []string {
	var removed []string
	for _, p := range strings.Split(r.Data[secrets.RecordParents], "\n") {
		if p == "" {
			continue
		}
		if ents, err := os.ReadDir(p); err != nil || len(ents) > 0 {
			break // not there, or not empty: its parents are not empty either
		}
		if err := os.Remove(p); err != nil {
			break
		}
		removed = append(removed, p)
	}
	return removed
}
