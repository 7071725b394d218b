package cli

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/claire-de-binare/cdb-setup/internal/doctor"
	"github.com/claire-de-binare/cdb-setup/internal/exitcode"
	"github.com/claire-de-binare/cdb-setup/internal/manifest"
	"github.com/claire-de-binare/cdb-setup/internal/setup"
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
	facts, err := f.Facts()
	if err != nil {
		return err
	}
	stateDir, err := f.StateDir()
	if err != nil {
		return err
	}
	e := doctor.Env{Facts: facts, Env: f.Env, StateDir: stateDir}
	e.Repo, e.RepoErr = f.RepoDir()
	if e.RepoErr == nil {
		m, _, err := manifest.Load(e.Repo)
		if err != nil {
			e.RepoErr = err
		} else {
			e.Manifest = m
		}
	}
	if e.RepoErr != nil {
		e.Repo = ""
	}
	e.SecretsPath, e.SecretsPathFrom = doctorSecretsPath(f, stateDir)

	results := doctor.RunAll(ctx, doctor.Checks(ctx, e))
	if ctx.Err() != nil {
		return SilentError(exitcode.Interrupted)
	}
	n := doctor.Count(results)
	if f.Global.JSON {
		if err := writeJSON(f.IO.Out, struct {
			Checks       []doctor.Result `json:"checks"`
			OK           int             `json:"ok"`
			Warnings     int             `json:"warnings"`
			Failures     int             `json:"failures"`
			NotAvailable []string        `json:"not_available"`
		}{results, n[doctor.OK], n[doctor.Warn], n[doctor.Fail], doctor.NotAvailable}); err != nil {
			return err
		}
	}
	printDoctor(f.IO.ErrOut, results, f.Global.Verbose)
	if n[doctor.Fail] > 0 {
		return SilentError(exitcode.Failed)
	}
	return nil
}

// doctorSecretsPath: the folder the user means — --secrets-path, else the
// last setup's answer, else SECRETS_PATH, else the default.
func doctorSecretsPath(f *Factory, stateDir string) (string, string) {
	if f.Global.SecretsPath != "" {
		return f.Global.SecretsPath, "--secrets-path"
	}
	if a, err := setup.LoadSaved(stateDir); err == nil && a.SecretsPath != "" {
		return a.SecretsPath, "from your last setup"
	}
	if v := f.Env.Getenv("SECRETS_PATH"); v != "" {
		return v, "from SECRETS_PATH"
	}
	facts, _ := f.Facts()
	return facts.DefaultSecretsPath(), "the default"
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
	fmt.Fprintf(w, "- not available in this version: %s\n", strings.Join(doctor.NotAvailable, ", "))
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
