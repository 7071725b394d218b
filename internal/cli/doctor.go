package cli

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/claire-de-binare/cdb-setup/internal/checks"
	"github.com/claire-de-binare/cdb-setup/internal/doctor"
	"github.com/claire-de-binare/cdb-setup/internal/exitcode"
)

// DoctorOptions are the inputs of `cdb-setup doctor`.
type DoctorOptions struct {
	F *Factory
}

// NewCmdDoctor builds `cdb-setup doctor`.
func NewCmdDoctor(f *Factory, runF func(*DoctorOptions) error) *cobra.Command {
	opts := &DoctorOptions{F: f}
	return &cobra.Command{
		Use:   "doctor",
		Short: "Check everything setup touches; ✓/!/✗ per line with the exact fix",
		Long: `doctor runs every check and changes nothing: system facts, Documents and
cloud sync, the secrets folder and each secret file, SECRETS_PATH, the state
file, the gitleaks hook. Each line is ✓ (fine), ! (works, will bite later) or
✗ (broken), and every ! and ✗ ends in the command that fixes it.

Exit status: 0 when nothing is ✗, 1 otherwise. --json prints the results.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(opts)
			}
			return doctorRun(opts)
		},
	}
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
	e := doctor.Env{Workspace: ws, Env: f.Env}
	if ws.NeedRepo() == nil {
		var done func()
		e.Stack, done = stackDoctorChecks(f)
		defer done()
	}

	results := doctor.RunAll(ctx, doctor.Checks(ctx, e))
	if ctx.Err() != nil {
		return SilentError(exitcode.Interrupted)
	}
	n := doctor.Count(results)
	f.setData(struct {
		Checks       []doctor.Result `json:"checks"`
		OK           int             `json:"ok"`
		Warnings     int             `json:"warnings"`
		Failures     int             `json:"failures"`
		NotAvailable []string        `json:"not_available"`
	}{results, n[doctor.OK], n[doctor.Warn], n[doctor.Fail], doctor.NotAvailable})
	printDoctor(f.IO.ErrOut, results, f.Global.Verbose)
	if n[doctor.Fail] > 0 {
		return explained(exitcode.Failed, fmt.Errorf("%d problem(s) to fix (see data.checks)", n[doctor.Fail]))
	}
	return nil
}

func printDoctor(w io.Writer, results []doctor.Result, verbose bool) {
	for _, r := range results {
		icon := map[doctor.Status]string{doctor.OK: "✓", doctor.Warn: "!", doctor.Fail: "✗", doctor.Skip: "-"}[r.Status]
		if r.Status == doctor.Skip && !verbose {
			continue
		}
		fmt.Fprintf(w, "%s %s: %s\n", icon, r.Title, r.Detail)
		if r.Fix != "" {
			fmt.Fprintf(w, "    fix: %s\n", r.Fix)
		}
	}
	if len(doctor.NotAvailable) > 0 {
		fmt.Fprintf(w, "- not available in this version: %s\n", strings.Join(doctor.NotAvailable, ", "))
	}
	n := doctor.Count(results)
	switch {
	case n[doctor.Fail] > 0:
		fmt.Fprintf(w, "\n%d problem(s) to fix, %d warning(s).\n", n[doctor.Fail], n[doctor.Warn])
	case n[doctor.Warn] > 0:
		fmt.Fprintf(w, "\nNo problems; %d warning(s).\n", n[doctor.Warn])
	default:
		fmt.Fprintln(w, "\nNo issues found ✓")
	}
}

// stackDoctorChecks are up's preflight checks for the default profile, as
// doctor lines: the Docker Engine behind the current context, Compose v2,
// compose's .env, the published ports, the images, the volumes that keep
// passwords vs their secret files. (The secret files have their own,
// per-file lines.) done closes the Engine client.
func stackDoctorChecks(f *Factory) ([]doctor.Check, func()) {
	ls, err := loadStack(f, &StackFlags{})
	if err != nil {
		return []doctor.Check{{ID: "stack", Title: "Compose files", Run: func(context.Context) doctor.Result {
			return doctor.Result{Status: doctor.Fail, Detail: "cannot read them: " + err.Error(), Fix: "fix the compose files or cdb-setup.yaml named above, then run cdb-setup doctor again"}
		}}}, func() {}
	}
	pf := &checks.Preflight{Env: f.Env, Home: ls.Facts.Home, GOOS: ls.Facts.OS, Engine: &checks.Engine{},
		Project: ls.Inv.Project, Ports: ls.Model.Ports(ls.Project), Rerun: "cdb-setup doctor",
		SecretNames: ls.Catalogue.Names(), SecretsDir: ls.SecretsDir,
		Volumes: ls.Model.Volumes, Up: rerunCommand(f, "up", nil)}
	// The secret files have their own doctor lines; volumes.secrets compares
	// them with the volumes keeping their passwords.
	for _, u := range ls.secretFiles() {
		sec, _ := ls.Catalogue.Get(u.Name)
		pf.Secrets = append(pf.Secrets, checks.SecretFile{Name: u.Name, Path: u.Path, Services: u.Services, Policy: sec.Policy})
	}
	for _, file := range ls.Files {
		pf.ComposeFiles = append(pf.ComposeFiles, filepath.Join(ls.Repo, filepath.FromSlash(file)))
	}
	pf.ComposeDir = filepath.Dir(pf.ComposeFiles[0])
	for _, name := range ls.Model.Start {
		sf := ls.Model.Services[name]
		pf.Images = append(pf.Images, checks.Image{Service: name, Name: sf.Image, HasBuild: sf.HasBuild})
	}
	var out []doctor.Check
	for _, c := range pf.Checks() {
		if c.ID == "secrets.files" {
			continue
		}
		c := c
		out = append(out, doctor.Check{ID: c.ID, Title: c.Title, Run: func(ctx context.Context) doctor.Result {
			// Bounded like up's preflight: one hung call must not stall doctor.
			cctx, cancel := context.WithTimeout(ctx, 60*time.Second)
			defer cancel()
			r := c.Run(cctx)
			return doctor.Result{Status: doctor.Status(r.Status), Detail: r.Detail, Fix: r.Fix}
		}})
	}
	return out, func() {
		if pf.Engine.Client != nil {
			pf.Engine.Client.Close()
		}
	}
}
