package cli

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/claire-de-binare/cdb-setup/internal/exitcode"
	"github.com/claire-de-binare/cdb-setup/internal/platform"
	"github.com/claire-de-binare/cdb-setup/internal/workspace"
)

// EnvStatusOptions are the inputs of `cdb-setup env status`.
type EnvStatusOptions struct {
	F *Factory
	// NoShells skips running the shells (only lists where it is set).
	NoShells bool
}

// EnvStatus is what `env status --json` prints.
type EnvStatus struct {
	Expected   string               `json:"expected"`
	Process    *string              `json:"process"`
	Places     []platform.EnvPlace  `json:"places"`
	Shells     []platform.ShellView `json:"shells"`
	StaleCount int                  `json:"stale"`
}

// NewCmdEnvStatus builds `cdb-setup env status`.
func NewCmdEnvStatus(f *Factory, runF func(*EnvStatusOptions) error) *cobra.Command {
	opts := &EnvStatusOptions{F: f}
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Where SECRETS_PATH is set, and what a new shell really sees",
		Long: `List every file (and on Windows the registry value) that sets SECRETS_PATH,
flag values set outside cdb-setup's block that differ from it, and run each
shell found on this machine (bash, zsh, sh, fish, pwsh; login, interactive and
plain) to show the value it really ends up with.

Exit status (the same rule as doctor's SECRETS_PATH lines): 1 when a place or
a shell sets SECRETS_PATH to a different folder (✗: docker compose would use
the wrong secrets); 0 when it is right, or only unset somewhere (!: cdb-setup
up passes SECRETS_PATH itself; only docker compose run by hand needs it).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(opts)
			}
			return envStatusRun(opts)
		},
	}
	cmd.Flags().BoolVar(&opts.NoShells, "no-shells", false, "do not start shells; only list where SECRETS_PATH is set")
	return cmd
}

func envStatusRun(opts *EnvStatusOptions) error {
	f := opts.F
	w := f.reportOut()
	ws, err := f.Workspace()
	if err != nil {
		return err
	}
	so := platform.StatusOptions{Facts: ws.Facts, Env: f.Env, ComposeEnv: composeEnvFile(ws)}
	// The value to compare against: the workspace's folder (the one every
	// command uses); when that is only the default, the one cdb-setup
	// manages, if any.
	so.Expected = ws.SecretsDir
	places := platform.EnvPlaces(so)
	if ws.SecretsSource == workspace.SecretsFromDefault {
		for _, p := range places {
			if p.Managed && p.Known {
				so.Expected = p.Value
				break
			}
		}
	}
	places = platform.EnvPlaces(so)
	st := EnvStatus{Expected: so.Expected, Places: places}
	if v, ok := f.Env.LookupEnv(platform.EnvVar); ok {
		st.Process = &v
	}
	if !opts.NoShells {
		st.Shells = platform.ProbeShells(f.ctx(), so)
	}

	fmt.Fprintf(w, "SECRETS_PATH should be %s\n", st.Expected)
	wrong := 0
	if len(places) == 0 {
		fmt.Fprintln(w, "! not set anywhere: run `cdb-setup env set` (cdb-setup up passes it itself; docker compose run by hand needs it)")
	} else {
		fmt.Fprintln(w, "Set in:")
	}
	for _, p := range places {
		loc := p.Where
		if p.Line > 0 {
			loc = fmt.Sprintf("%s:%d", p.Where, p.Line)
		}
		text := p.Text
		if text == "" {
			text = p.Value
		}
		switch {
		case p.Stale:
			st.StaleCount++
			wrong++
			why := "sets a value that cannot be read without running the shell"
			if p.Known {
				why = "sets " + p.Value
			}
			fmt.Fprintf(w, "  ✗ %s  %s\n    stale: %s, not %s; remove or update this line (it is outside cdb-setup's block)\n", loc, text, why, st.Expected)
		case p.Managed && strings.Contains(text, "cdb-setup"):
			fmt.Fprintf(w, "  ✓ %s  %s\n", loc, text)
		case p.Managed:
			fmt.Fprintf(w, "  ✓ %s  %s (cdb-setup)\n", loc, text)
		default:
			fmt.Fprintf(w, "  • %s  %s\n", loc, text)
		}
	}
	if ws.Facts.OS == "windows" {
		fmt.Fprintln(w, "New programs and new terminal tabs read HKCU\\Environment; running programs (VS Code) keep what they started with until fully restarted.")
	}
	if len(st.Shells) > 0 {
		fmt.Fprintln(w, "A new shell sees (run, not guessed):")
	}
	for _, v := range st.Shells {
		switch {
		case v.Error != "":
			fmt.Fprintf(w, "  ✗ %-22s could not run: %s\n", v.Command, v.Error)
		case !v.Set:
			fmt.Fprintf(w, "  ! %-22s not set\n", v.Command)
		case filepath.Clean(v.Value) != filepath.Clean(st.Expected):
			wrong++
			fmt.Fprintf(w, "  ✗ %-22s %s (expected %s)\n", v.Command, v.Value, st.Expected)
		default:
			fmt.Fprintf(w, "  ✓ %-22s %s\n", v.Command, v.Value)
		}
	}
	switch {
	case st.Process == nil:
		fmt.Fprintln(w, "This terminal: not set (open a new one after `cdb-setup env set`)")
	case filepath.Clean(*st.Process) != filepath.Clean(st.Expected):
		fmt.Fprintf(w, "This terminal: %s (started before the last change; open a new one)\n", *st.Process)
	default:
		fmt.Fprintf(w, "This terminal: %s\n", *st.Process)
	}
	f.setData(st)
	if wrong > 0 {
		return SilentError(exitcode.Failed)
	}
	return nil
}
