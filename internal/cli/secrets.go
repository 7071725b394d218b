package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/claire-de-binare/cdb-setup/internal/exitcode"
	"github.com/claire-de-binare/cdb-setup/internal/manifest"
	"github.com/claire-de-binare/cdb-setup/internal/platform"
	"github.com/claire-de-binare/cdb-setup/internal/secrets"
	"github.com/claire-de-binare/cdb-setup/internal/step"
	"github.com/claire-de-binare/cdb-setup/internal/workspace"
)

// NewCmdSecrets builds the `cdb-setup secrets` group.
func NewCmdSecrets(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "secrets",
		Short: "Create, check, repair and rotate the stack's secret files",
		Long: `The stack reads its passwords from files in SECRETS_PATH (default
<Documents>/.secrets/.cdb), one file per secret, exactly the bytes of the
value: no newline, no BOM, no CR. These commands make and keep them so.

Which secrets exist comes from the compose files' top-level secrets:; how each
is made (generated, derived, external) from cdb-setup.yaml or the built-in
CDB default.`,
	}
	cmd.AddCommand(NewCmdSecretsInit(f, nil))
	cmd.AddCommand(NewCmdSecretsCheck(f, nil))
	cmd.AddCommand(NewCmdSecretsFix(f, nil))
	cmd.AddCommand(NewCmdSecretsRotate(f, nil))
	cmd.AddCommand(NewCmdSecretsRecover(f, nil))
	cmd.AddCommand(NewCmdSecretsFromEnv(f, nil))
	return cmd
}

// SelectionFlags choose the compose files whose secrets are managed.
type SelectionFlags struct {
	Profile  string
	Overlays []string
	TLS      bool
	FileMode string
}

func (s *SelectionFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&s.Profile, "profile", "", "compose profile from cdb-setup.yaml (without --profile and --overlay every profile and overlay is read, so every secret any of them mounts exists)")
	fl.StringSliceVar(&s.Overlays, "overlay", nil, overlayUsage+"; with the tls overlay the DSN gets sslmode=require")
	// --tls is the old spelling of --overlay tls (hidden, still accepted).
	fl.BoolVar(&s.TLS, "tls", false, "same as --overlay tls")
	_ = fl.MarkDeprecated("tls", "use --overlay tls")
	fl.StringVar(&s.FileMode, "file-mode", "", "mode of the secret files, 0600 or 0644 (default: 0644 on Linux, 0600 elsewhere; see the output for why)")
}

// secretsContext is what every secrets command needs: the workspace (repo,
// manifest, secrets folder and how it was chosen, project, facts), the
// catalogue, the file mode.
type secretsContext struct {
	*workspace.Workspace
	Catalogue *secrets.Catalogue
	Options   secrets.Options
	ModeWhy   string
}

// loadSecrets resolves everything a secrets command needs and prints where
// the folder is and why the file mode, so the user knows what will happen.
func loadSecrets(f *Factory, sel SelectionFlags) (*secretsContext, error) {
	ws, err := f.repoWorkspace()
	if err != nil {
		return nil, err
	}
	sc := &secretsContext{Workspace: ws}
	repo, m, at, facts := ws.Repo, ws.Manifest, ws.ManifestSource, ws.Facts
	if st, err := os.Stat(ws.ComposeDir); err != nil || !st.IsDir() {
		return nil, exitcode.Environmentf("%s has no %s folder: it is not a clone of the CDB repository (%s); pass --repo DIR with the folder of your clone", repo, m.ComposeDir, at)
	}

	overlays := append([]string(nil), sel.Overlays...)
	if sel.TLS && !slices.Contains(overlays, "tls") {
		overlays = append(overlays, "tls")
	}
	var files []string
	if sel.Profile != "" || len(overlays) > 0 {
		files, err = m.ComposeFiles(manifest.Selection{Profile: sel.Profile, Overlays: overlays})
		if err != nil {
			return nil, exitcode.New(exitcode.Usage, err)
		}
	}
	cat, err := secrets.Discover(f.ctx(), secrets.DiscoverOptions{Repo: repo, Manifest: m, Files: files, Dir: sc.SecretsDir, Env: f.Env, CacheDir: f.catalogueCache(ws)})
	if err != nil {
		return nil, exitcode.New(exitcode.Failed, err)
	}
	sc.Catalogue = cat

	mode, why := secrets.DefaultFileMode(facts)
	if sel.FileMode != "" {
		mode, err = secrets.ParseFileMode(sel.FileMode)
		if err != nil {
			return nil, exitcode.New(exitcode.Usage, err)
		}
		why = fmt.Sprintf("files %04o (--file-mode)", mode)
	}
	sc.ModeWhy = why
	sc.Options = secrets.Options{
		Catalogue: cat,
		Mode:      mode,
		TLS:       sel.TLS || slices.Contains(overlays, "tls"),
		Env:       secrets.ComposeEnv(f.Env, cat.Names(), sc.SecretsDir),
		Repo:      repo,
		Project:   ws.Project,
		StateDir:  ws.StateDir,
		// One git question about the folder per command (preflight, plan,
		// apply and check all ask it).
		Reach: &secrets.GitReach{},
	}
	w := f.IO.ErrOut
	fmt.Fprintf(w, "Secrets folder: %s (%s)\n", sc.SecretsDir, sc.SecretsSource)
	if ok, reason := platform.PermissionsEnforced(sc.SecretsDir); !ok {
		// The intended protection, and the truth about it here.
		why += "; but not enforced on this system (" + reason + ")"
	}
	fmt.Fprintf(w, "Permissions: %s\n", why)
	if facts.CloudSync != "" && isInsideDir(sc.SecretsDir, facts.Documents) {
		fmt.Fprintf(w, "! Documents is synced by %s: the secrets would go to the cloud. Pass --secrets-path with a folder that is not synced (and set SECRETS_PATH to it).\n", facts.CloudSync)
	}
	if f.Global.Verbose {
		fmt.Fprintf(w, "Manifest: %s; compose files: %s\n", at, strings.Join(cat.Files, ", "))
	}
	return sc, nil
}

// preflight stops a command at once when the secrets folder is unusable.
func preflight(f *Factory, sc *secretsContext) error {
	if err := secrets.Preflight(f.ctx(), sc.Options); err != nil {
		// Main prints it with its fix.
		f.report(step.Report{Results: []step.Result{step.Failed("secrets.folder", err, step.FixOf(err))}})
		return exitcode.New(exitcode.Failed, err)
	}
	return nil
}

// readValueArg reads a --set NAME=@file / NAME=@- value. Literal values are
// refused: argv is visible to every user in the process list and stays in
// shell history.
func readValueArg(f *Factory, arg string, stdinUsed *bool) (string, []byte, error) {
	name, src, ok := strings.Cut(arg, "=")
	if !ok || name == "" {
		return "", nil, exitcode.Usagef("--set %q: use NAME=@FILE or NAME=@- (stdin)", name)
	}
	if !strings.HasPrefix(src, "@") {
		return "", nil, exitcode.Usagef("--set %s: values are never taken from the command line (other users can see it in the process list); put it in a file and pass %s=@FILE, or pipe it with %s=@-", name, name, name)
	}
	src = src[1:]
	var b []byte
	var err error
	if src == "-" {
		if *stdinUsed {
			return "", nil, exitcode.Usagef("--set %s=@-: stdin can be read for one secret only", name)
		}
		*stdinUsed = true
		b, err = platform.ReadContext(f.ctx(), func() ([]byte, error) { return readAllLimited(f.IO.In) })
	} else {
		// Opening a FIFO blocks until a writer comes, reading a pipe until
		// it closes: both wait in the background so Ctrl-C ends at once.
		b, err = platform.ReadContext(f.ctx(), func() ([]byte, error) { return secrets.ReadInput(src) })
	}
	if ctxErr := f.ctx().Err(); ctxErr != nil {
		fmt.Fprintf(f.IO.ErrOut, "Interrupted while reading --set %s: nothing was written.\n", name)
		return "", nil, SilentError(exitcode.Interrupted)
	}
	if err != nil {
		return "", nil, exitcode.Usagef("--set %s: %v", name, err)
	}
	v, err := secrets.NormalizeInputFile(b)
	if err != nil {
		return "", nil, exitcode.Usagef("--set %s: %v", name, err)
	}
	return name, v, nil
}

func isInsideDir(p, root string) bool {
	if root == "" {
		return false
	}
	rel, err := filepath.Rel(root, p)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

// runSecretSteps runs steps like runSteps and ends with one line saying
// whether anything changed, so a re-run plainly says "already done".
func runSecretSteps(f *Factory, steps []step.Step, keepGoing bool) error {
	rep, err := runSteps(f, steps, keepGoing)
	if f.Global.DryRun || rep.Interrupted || rep.Failed() {
		return err
	}
	changed := 0
	for _, r := range rep.Results {
		if r.Status == step.StatusChanged {
			changed++
		}
	}
	if changed == 0 {
		fmt.Fprintln(f.IO.ErrOut, "Already done: nothing changed.")
	} else {
		fmt.Fprintf(f.IO.ErrOut, "Done: %d change(s).\n", changed)
	}
	return err
}
