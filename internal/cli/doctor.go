package cli

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/claire-de-binare/cdb-setup/internal/checks"
	"github.com/claire-de-binare/cdb-setup/internal/exitcode"
	"github.com/claire-de-binare/cdb-setup/internal/rotate"
	"github.com/claire-de-binare/cdb-setup/internal/secrets"
	"github.com/claire-de-binare/cdb-setup/internal/stack"
)

// DoctorOptions are the inputs of `cdb-setup doctor`.
type DoctorOptions struct {
	F *Factory
	// Offline skips the checks that need Docker (and the compose model they
	// read): the Engine, Compose, ports, images, volumes, the stack's state,
	// logins.
	Offline bool
}

// NewCmdDoctor builds `cdb-setup doctor`.
func NewCmdDoctor(f *Factory, runF func(*DoctorOptions) error) *cobra.Command {
	opts := &DoctorOptions{F: f}
	cmd := &cobra.Command{
		Use:   "doctor",
		Short: "Check everything setup touches; ✓/!/✗ per line with the exact fix",
		Long: `doctor runs every check and changes nothing: system facts, Documents and
cloud sync, the secrets folder and each secret file, SECRETS_PATH, the state
file, the gitleaks hook. Each line is ✓ (fine), ! (works, will bite later) or
✗ (broken), and every ! and ✗ ends in the command that fixes it.

--offline skips the checks that talk to Docker (the Engine, Compose, the
published ports, images, volumes, logins to the running services): the rest
answers in a fraction of a second, for a quick look or a prompt hook.

Exit status: 0 when nothing is ✗, 1 otherwise. --json prints the results.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(opts)
			}
			return doctorRun(opts)
		},
	}
	cmd.Flags().BoolVar(&opts.Offline, "offline", false, "skip the checks that need Docker (Engine, Compose, ports, images, volumes, stack state, logins)")
	return cmd
}

func doctorRun(o *DoctorOptions) error {
	f := o.F
	ctx := f.ctx()
	ws, err := f.Workspace()
	if err != nil {
		return err
	}
	if ws.StateDirErr != nil {
		return exitcode.New(exitcode.Environment, ws.StateDirErr)
	}
	// The workspace's repo error is one of doctor's lines, not a failure.
	e := checks.Env{Workspace: ws, Env: f.Env}
	switch {
	case ws.NeedRepo() != nil:
	case o.Offline:
		e.Stack = []checks.Check{{ID: "docker", Title: "Docker checks", Run: func(context.Context) checks.Result {
			return checks.Result{Status: checks.Skip, Detail: "not run (--offline): Docker Engine, Compose, published ports, images, volumes, whether the stack runs, logins"}
		}}}
	default:
		var done func()
		e.Stack, done = stackDoctorChecks(f)
		defer done()
	}

	// Independent checks run at the same time (checks.RunConcurrently); the
	// lines still print in their fixed order.
	results := checks.RunConcurrently(ctx, checks.Doctor(ctx, e), nil)
	if ctx.Err() != nil {
		return SilentError(exitcode.Interrupted)
	}
	n := checks.Count(results)
	f.setData(struct {
		Checks       []checks.Outcome `json:"checks"`
		OK           int              `json:"ok"`
		Warnings     int              `json:"warnings"`
		Failures     int              `json:"failures"`
		NotAvailable []string         `json:"not_available"`
	}{results, n[checks.OK], n[checks.Warn], n[checks.Fail], checks.NotAvailable})
	printDoctor(f.reportOut(), results, f.Global.Verbose)
	if o.Offline && ws.NeedRepo() == nil {
		fmt.Fprintf(f.reportOut(), "Docker checks skipped (--offline); for them run `%s`\n", rerunCommand(f, "doctor", nil))
	}
	if n[checks.Fail] > 0 {
		return explained(exitcode.Failed, fmt.Errorf("%d problem(s) to fix (see data.checks)", n[checks.Fail]))
	}
	return nil
}

// printDoctor prints doctor's lines (skips only with --verbose: they do
// not apply here) and the tally.
func printDoctor(w io.Writer, results []checks.Outcome, verbose bool) {
	for _, r := range results {
		if r.Status == checks.Skip && !verbose {
			continue
		}
		printCheck(w, r)
	}
	if len(checks.NotAvailable) > 0 {
		fmt.Fprintf(w, "  - not available in this version: %s\n", strings.Join(checks.NotAvailable, ", "))
	}
	n := checks.Count(results)
	switch {
	case n[checks.Fail] > 0:
		fmt.Fprintf(w, "\n%d problem(s) to fix, %d warning(s).\n", n[checks.Fail], n[checks.Warn])
	case n[checks.Warn] > 0:
		fmt.Fprintf(w, "\nNo problems; %d warning(s).\n", n[checks.Warn])
	default:
		fmt.Fprintln(w, "\nNo issues found ✓")
	}
}

// stackDoctorChecks are up's preflight checks for the default profile, as
// doctor lines: the Docker Engine behind the current context, Compose v2,
// compose's .env, the published ports, the images, the volumes that keep
// passwords vs their secret files. (The secret files have their own,
// per-file lines.) done closes the Engine client.
func stackDoctorChecks(f *Factory) ([]checks.Check, func()) {
	ls, err := loadStack(f, &StackFlags{})
	if err != nil {
		return []checks.Check{{ID: "stack", Title: "Compose files", Run: func(context.Context) checks.Result {
			return checks.Result{Status: checks.Fail, Detail: "cannot read them: " + err.Error(), Fix: "fix the compose files or cdb-setup.yaml named above, then run cdb-setup doctor again"}
		}}}, func() {}
	}
	pf := &checks.Preflight{Env: f.Env, Home: ls.Facts.Home, GOOS: ls.Facts.OS, Engine: &checks.Engine{},
		Project: ls.Inv.Project, Ports: ls.Model.Ports(ls.Project), Rerun: "cdb-setup doctor",
		SecretNames: ls.Catalogue.Names(), SecretsDir: ls.SecretsDir,
		Volumes: ls.Model.Volumes, Up: rerunCommand(f, "up", nil), Logins: ls.Manifest.Checks}
	pf.StateDir = ls.StateDir
	// The secret files have their own doctor lines; volumes.secrets compares
	// them with the volumes keeping their passwords.
	for _, u := range ls.secretFiles() {
		sec, _ := ls.Catalogue.Get(u.Name)
		pf.Secrets = append(pf.Secrets, checks.SecretFile{Name: u.Name, Path: u.Path, Services: u.Services, Policy: sec.Policy})
	}
	for _, file := range ls.Files {
		pf.ComposeFiles = append(pf.ComposeFiles, repoPath(ls.Repo, file))
	}
	pf.ComposeDir = filepath.Dir(pf.ComposeFiles[0])
	for _, name := range ls.Model.Start {
		sf := ls.Model.Services[name]
		pf.Images = append(pf.Images, checks.Image{Service: name, Name: sf.Image, HasBuild: sf.HasBuild})
	}
	var out []checks.Check
	for _, c := range pf.Checks() {
		// The secret files have their own doctor lines (above).
		if c.ID != "secrets.files" {
			out = append(out, c)
		}
	}
	// Whether the stack runs at all (issue 14): up/healthy per target,
	// `cdb-setup up` as the fix, unknown without the Engine.
	out = append(out, checks.Check{ID: "stack.running", Title: "Stack running", Needs: "docker.engine", Run: func(ctx context.Context) checks.Result {
		var api stack.EngineAPI
		if pf.Engine.Client != nil {
			api = pf.Engine.Client
		}
		return checks.StackRunning(ctx, api, ls.Inv.Project, ls.Targets, pf.Up)
	}})
	// A healthcheck passes while a password is refused (issue 12,
	// observation 5): with the stack running, doctor logs in like up does.
	out = append(out, checks.Check{ID: "stack.logins", Title: "Running services accept the passwords in the secret files", Needs: "docker.engine", Run: func(ctx context.Context) checks.Result {
		return doctorLogins(ctx, ls, pf)
	}})
	return out, func() {
		if pf.Engine.Client != nil {
			pf.Engine.Client.Close()
		}
	}
}

// doctorLogins runs the manifest's login checks against the services of
// the project that run now; it says so when nothing runs (never ✓ for a
// login it did not try).
func doctorLogins(ctx context.Context, ls *loadedStack, pf *checks.Preflight) checks.Result {
	if pf.Engine.Client == nil {
		return checks.Result{Status: checks.Skip, Detail: "Docker is not reachable"}
	}
	running, err := rotate.Running(ctx, pf.Engine.Client, ls.Inv.Project)
	if err != nil {
		return checks.Result{Status: checks.Warn, Detail: "cannot list the running containers: " + err.Error(), Fix: "docker ps"}
	}
	up := map[string]bool{}
	command := map[string][]string{}
	for _, c := range running {
		up[c.Service] = true
		command[c.Service] = c.Command
	}
	var oks, bad, fixes, notRunning, missing []string
	for _, c := range ls.Manifest.Checks {
		if !up[c.Service] {
			notRunning = append(notRunning, c.Service)
			continue
		}
		path := filepath.Join(ls.SecretsDir, c.Secret)
		if b, err := secrets.ReadSecret(path); err != nil || len(b) == 0 {
			// The secret lines say what to do about the file.
			missing = append(missing, c.Service+" ("+c.Secret+" missing)")
			continue
		}
		vol := ls.Manifest.Secrets[c.Secret].Volume
		if vol != "" {
			vol = volumeName(ls, vol)
		}
		r := runLoginCheck(ctx, ls.SecretsDir, c, command[c.Service], path, pf.Up, vol, 0)
		switch {
		case r.OK:
			oks = append(oks, c.Service)
		default:
			bad = append(bad, r.Detail)
			if r.Fix != "" {
				fixes = append(fixes, r.Fix)
			}
		}
	}
	switch {
	case len(bad) > 0:
		return checks.Result{Status: checks.Fail, Detail: strings.Join(bad, "; "), Fix: strings.Join(fixes, "; and ")}
	case len(missing) > 0:
		return checks.Result{Status: checks.Warn, Detail: "not tried, the secret file is missing: " + strings.Join(missing, ", ") + " (logged in: " + orDash(strings.Join(oks, ", ")) + ")",
			Fix: "restore the secret files first (see the volume and secret lines), then run cdb-setup doctor again"}
	case len(oks) == 0 && len(notRunning) > 0:
		return checks.Result{Status: checks.Skip, Detail: "the stack is not running, so no login was tried (`" + pf.Up + "` logs in after the start)"}
	case len(oks) == 0:
		return checks.Result{Status: checks.Skip, Detail: "the manifest has no login checks"}
	}
	d := "logged in to " + strings.Join(oks, ", ") + " with the passwords from the secret files"
	if len(notRunning) > 0 {
		d += " (not running, not tried: " + strings.Join(notRunning, ", ") + ")"
	}
	return checks.Result{Status: checks.OK, Detail: d}
}
