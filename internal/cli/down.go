package cli

import (
	"fmt"
	"io"

	"github.com/docker/docker/api/types/volume"
	"github.com/spf13/cobra"

	"github.com/claire-de-binare/cdb-setup/internal/checks"
	"github.com/claire-de-binare/cdb-setup/internal/exitcode"
	"github.com/claire-de-binare/cdb-setup/internal/stack"
	"github.com/claire-de-binare/cdb-setup/internal/step"
)

// DownOptions are the inputs of `cdb-setup down`.
type DownOptions struct {
	F     *Factory
	Stack StackFlags
	// Volumes also deletes the project's volumes (postgres and Grafana data,
	// and the passwords they keep) after listing them and asking.
	Volumes bool
}

// NewCmdDown wires `cdb-setup down`.
func NewCmdDown(f *Factory, runF func(*DownOptions) error) *cobra.Command {
	opts := &DownOptions{F: f}
	cmd := &cobra.Command{
		Use:   "down",
		Short: "Stop and remove the stack's containers (volumes are kept unless --volumes)",
		Long: `Stop and remove the containers and networks of the stack, with the same
profile and overlay flags as up. Volumes — the databases, and the passwords
postgres and Grafana were initialised with — are kept unless --volumes is
given; then they are listed and you are asked first.`,
		Example: `  cdb-setup down
  cdb-setup down --volumes       # lists the volumes and asks before deleting`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(opts)
			}
			return downRun(opts)
		},
	}
	opts.Stack.register(cmd)
	cmd.Flags().BoolVar(&opts.Volumes, "volumes", false, "also delete the stack's volumes and their data (lists them and asks first)")
	return cmd
}

// downReport is down's data in the --json envelope.
type downReport struct {
	Project   string           `json:"project"`
	Preflight []checks.Outcome `json:"preflight"`
	// Volumes are the project's volumes (listed with --volumes).
	Volumes        []string `json:"volumes"`
	Stopped        bool     `json:"stopped"`
	VolumesDeleted bool     `json:"volumes_deleted"`
}

// preflightError names the first failed check, with its fix.
func preflightError(outs []checks.Outcome) error {
	for _, o := range outs {
		if o.Status == checks.Fail {
			return step.WithFix(fmt.Errorf("%s: %s", o.Title, o.Detail), o.Fix)
		}
	}
	return fmt.Errorf("preflight failed")
}

func downRun(opts *DownOptions) error {
	f := opts.F
	w := f.IO.ErrOut
	ctx := f.ctx()
	ls, err := loadStack(f, &opts.Stack)
	if err != nil {
		return err
	}
	facts := ls.Facts
	engine := &checks.Engine{}
	compose := &stack.Compose{}
	pf := &checks.Preflight{Env: f.Env, Home: facts.Home, GOOS: facts.OS, Engine: engine, Compose: compose}
	for _, file := range ls.Files {
		pf.ComposeFiles = append(pf.ComposeFiles, repoPath(ls.Repo, file))
	}
	all := pf.Checks()
	outs := checks.RunAll(ctx, all[:2], nil) // Engine and Compose only
	data := &downReport{Project: ls.Inv.Project, Preflight: outs, Volumes: []string{}}
	f.setData(data)
	if failed, missing := checks.Failed(outs); failed {
		for _, o := range outs {
			printCheck(w, o)
		}
		code := exitcode.Failed
		if missing {
			code = exitcode.Environment
		}
		return explained(code, preflightError(outs))
	}
	defer engine.Client.Close()

	var log io.Writer
	if f.Global.Verbose {
		log = w
	}
	down := &stack.DownStep{API: engine.Client, Compose: *compose, Inv: ls.Inv, Volumes: opts.Volumes, Log: log}
	rep, err := runStepsOpts(f, []step.Step{down}, step.Options{Confirm: func([]step.Change) error {
		return confirmVolumeDeletion(f, down.PlannedVolumes())
	}})
	for _, v := range down.PlannedVolumes() {
		data.Volumes = append(data.Volumes, v.Name)
	}
	for _, r := range rep.Results {
		if r.Status == step.StatusChanged || r.Status == step.StatusDone {
			data.Stopped, data.VolumesDeleted = true, opts.Volumes && len(data.Volumes) > 0
		}
	}
	if opts.Volumes && len(data.Volumes) == 0 && err == nil && !f.Global.DryRun {
		fmt.Fprintf(w, "No volumes of project %s exist; nothing to delete besides containers.\n", ls.Inv.Project)
	}
	return err
}

// confirmVolumeDeletion lists the volumes down --volumes deletes and asks
// (only --yes answers for the user). Nothing to delete: nothing to ask.
func confirmVolumeDeletion(f *Factory, vols []volume.Volume) error {
	if len(vols) == 0 {
		return nil
	}
	w := f.IO.ErrOut
	fmt.Fprintf(w, "--volumes deletes these volumes and every byte in them:\n")
	for _, v := range vols {
		fmt.Fprintf(w, "  - %s (created %s)\n", v.Name, v.CreatedAt)
	}
	fmt.Fprintln(w, "Postgres and Grafana are initialised again with the current secrets on the next `cdb-setup up`.")
	ok, err := confirmYes(f, "Delete these volumes?")
	if err != nil {
		return err
	}
	if !ok {
		return exitcode.New(exitcode.Failed, fmt.Errorf("not confirmed: nothing was stopped or deleted (run without --volumes to keep the data)"))
	}
	return nil
}
