package cli

import (
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/claire-de-binare/cdb-setup/internal/checks"
	"github.com/claire-de-binare/cdb-setup/internal/platform"
	"github.com/claire-de-binare/cdb-setup/internal/stack"
	"github.com/claire-de-binare/cdb-setup/internal/step"
)

// UpOptions are the inputs of `cdb-setup up`.
type UpOptions struct {
	F     *Factory
	Stack StackFlags
	Build bool
	// Timeout is the global limit; 0 derives it per service from its
	// healthcheck timings.
	Timeout time.Duration
	// RecreateVolumes deletes these compose volumes (after confirmation)
	// before starting: the stale-volume fix, never done silently.
	RecreateVolumes []string

	// result is the up step's status once run ("done": already running
	// and healthy, nothing changed); the wizard's step reports it, and
	// prints its result line itself (inWizard: up prints none).
	result   step.Status
	inWizard bool
	// pf is the preflight run by upPreflight: after the start it records
	// the passwords of the volumes this start initialised.
	pf *checks.Preflight
}

// NewCmdUp wires `cdb-setup up`.
func NewCmdUp(f *Factory, runF func(*UpOptions) error) *cobra.Command {
	opts := &UpOptions{F: f}
	cmd := &cobra.Command{
		Use:   "up [SERVICE...]",
		Short: "Start the stack and wait until every target service is healthy, or explain why not",
		Long: `Start the stack with the compose files of the profile and overlays, then wait
on the Docker Engine's events until every target service is healthy (or
running, for services without a healthcheck; one-shot services must exit 0).

With SERVICE arguments (compose's convention), only those services start,
with the services they depend on (compose starts those too), and only they
are waited for and checked; without, the manifest's targets.

A service that turns unhealthy or keeps restarting fails at once, with its
last probe output, its last 50 log lines, the recognised cause and the
command that fixes it. After the stack is healthy, cdb-setup proves each
mounted secret is readable by the container's user and logs in to postgres,
redis and Grafana with the passwords from the secret files.

Secret values are never passed to compose: its environment is yours minus
anything named like a secret, plus SECRETS_PATH.`,
		Example: `  cdb-setup up
  cdb-setup up cdb_redis cdb_postgres
  cdb-setup up --profile prod --overlay <name> --build   # the names: --overlay below
  cdb-setup up --json`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Stack.Services = args
			if runF != nil {
				return runF(opts)
			}
			return upRun(opts)
		},
	}
	opts.Stack.register(cmd)
	cmd.Flags().BoolVar(&opts.Build, "build", false, "rebuild images before starting (compose up --build)")
	cmd.Flags().DurationVar(&opts.Timeout, "timeout", 0, "give up after this long (default: from each service's healthcheck timings)")
	cmd.Flags().StringSliceVar(&opts.RecreateVolumes, "recreate-volume", nil, "delete this compose volume (e.g. postgres_data) and its data before starting; asks first")
	return cmd
}

// upReport is the --json outcome.
type upReport struct {
	OK           bool              `json:"ok"`
	Project      string            `json:"project"`
	ComposeFiles []string          `json:"compose_files"`
	Compose      *stack.Compose    `json:"compose,omitempty"`
	Preflight    []checks.Outcome  `json:"preflight"`
	Services     []stack.Service   `json:"services,omitempty"`
	Diagnoses    []stack.Diagnosis `json:"diagnoses,omitempty"`
	Checks       []checks.Outcome  `json:"checks,omitempty"`
	Interrupted  bool              `json:"interrupted,omitempty"`
	TimedOut     bool              `json:"timed_out,omitempty"`
	ComposeError string            `json:"compose_error,omitempty"`
	Elapsed      float64           `json:"elapsed_seconds"`
	// LastReadyAt is the Engine's time of the last service turning ready.
	LastReadyAt time.Time `json:"last_ready_at,omitzero"`
	Warnings    []string  `json:"warnings,omitempty"`
}

func upRun(opts *UpOptions) error {
	f := opts.F
	w := f.IO.ErrOut
	start := time.Now()
	rep := &upReport{}
	finish := func(err error) error {
		rep.Elapsed = time.Since(start).Seconds()
		f.setData(rep)
		return err
	}

	ls, err := loadStack(f, &opts.Stack)
	if err != nil {
		return finish(err)
	}
	rep.Project, rep.ComposeFiles, rep.Warnings = ls.Inv.Project, ls.Files, ls.Warnings
	for _, wmsg := range ls.Warnings {
		fmt.Fprintf(w, "! %s\n", wmsg)
	}
	if f.Global.DryRun && ls.TLS != nil {
		printTLSOverlay(w, ls)
	}
	rerun := rerunCommand(f, "up", opts.Stack.upArgs())

	engine, compose, err := upPreflight(f, opts, ls, rep, rerun)
	if engine.Client != nil {
		defer engine.Client.Close()
	}
	if err != nil {
		return finish(err)
	}
	if engine.Client != nil {
		if msg := droppedFiles(f.ctx(), f, ls, engine.Client); msg != "" {
			rep.Warnings = append(rep.Warnings, msg)
			fmt.Fprintf(w, "! %s\n", msg)
		}
	}

	// The changes, as steps: the volumes to recreate (asked first), then
	// compose up and the wait. --dry-run shows their plans.
	var steps []step.Step
	recreate, err := recreateSteps(ls, compose, engine.Client, opts.RecreateVolumes)
	if err != nil {
		return finish(err)
	}
	steps = append(steps, recreate...)
	// Containers whose secret file changed behind them are recreated by the
	// start (compose would keep them; issue 12, observation 3).
	// Only when there is one: a healthy unchanged stack stays one "done" step.
	if svcs, _ := staleServices(f.ctx(), ls, engine.Client); len(svcs) > 0 {
		steps = append(steps, &staleStep{ls: ls, compose: compose, api: engine.Client})
	}
	upStep := &upStartStep{f: f, opts: opts, ls: ls, compose: compose, api: engine.Client, rerun: rerun, rep: rep, start: start}
	steps = append(steps, upStep)
	so := step.Options{Confirm: func(plans []step.Change) error { return confirmRecreate(f, plans) }}
	if opts.inWizard {
		so.OnResult = func(step.Result) {}
	}
	_, err = runStepsOpts(f, steps, so)
	opts.result = upStep.result
	if err == nil {
		rep.OK = true
	}
	return finish(err)
}

// rerunCommand is the command line that repeats this run with the user's
// stack flags (for fixes).
func rerunCommand(f *Factory, verb string, args []string) string {
	parts := []string{"cdb-setup", verb}
	if f.Global.Repo != "" {
		parts = append(parts, "--repo", platform.ShellArg(f.Global.Repo))
	}
	if f.Global.SecretsPath != "" {
		parts = append(parts, "--secrets-path", platform.ShellArg(f.Global.SecretsPath))
	}
	if f.Global.ProjectName != "" {
		parts = append(parts, "--project-name", platform.ShellArg(f.Global.ProjectName))
	}
	return strings.Join(append(parts, args...), " ")
}
