package cli

import (
	"context"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/claire-de-binare/cdb-setup/internal/platform"
	"github.com/claire-de-binare/cdb-setup/internal/setup"
	"github.com/claire-de-binare/cdb-setup/internal/step"
	"github.com/claire-de-binare/cdb-setup/internal/wizard"
)

func printWelcome(w io.Writer, f *Factory, s *wizardSession, b setup.Builders) {
	fa := s.Facts
	sys := fa.OS + "/" + fa.Arch
	if fa.WSL {
		sys += " (WSL " + fa.WSLDistro + ")"
	}
	docs := fa.Documents
	if fa.CloudSync != "" {
		docs += "  ! synced by " + fa.CloudSync
	}
	shell := fa.LoginShell
	if shell == "" {
		shell = "(unknown)"
	}
	fmt.Fprintln(w, "cdb-setup: from a fresh clone to a healthy Claire de Binare stack")
	fmt.Fprintf(w, "  System     %s\n", sys)
	fmt.Fprintf(w, "  Shell      %s\n", shell)
	fmt.Fprintf(w, "  Docker     %s\n", dockerContext(f))
	fmt.Fprintf(w, "  Repo       %s (%s)\n", s.Repo, s.ManifestSource)
	fmt.Fprintf(w, "  Documents  %s\n", docs)
	fmt.Fprintln(w, "What happens: a few questions, then the full list of changes; nothing changes until you confirm.")
	var na []string
	for _, ar := range setup.Areas(wizard.Answers{Keychain: wizard.Bool(true), Persist: []string{"x"}, Hook: wizard.Bool(true), Start: wizard.Bool(true)}, b) {
		if ar.Build == nil && !(ar.ID == "stack.preflight" && b.Up != nil) {
			na = append(na, ar.Title)
		}
	}
	if len(na) > 0 {
		fmt.Fprintf(w, "Not available in this version: %s.\n", strings.Join(na, "; "))
	}
	fmt.Fprintln(w)
}

// dockerContext names the Docker context for the welcome; Docker is needed
// only to start the stack, so its absence is information, not an error.
func dockerContext(f *Factory) string {
	if h := f.Env.Getenv("DOCKER_HOST"); h != "" {
		return "DOCKER_HOST=" + h
	}
	if c := f.Env.Getenv("DOCKER_CONTEXT"); c != "" {
		return "context " + c + " (DOCKER_CONTEXT)"
	}
	path, err := platform.LookPathIn(f.Env, "docker")
	if err != nil {
		return "docker not found on PATH (needed to start the stack)"
	}
	ctx, cancel := context.WithTimeout(f.ctx(), 5*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, "context", "show")
	cmd.Env = f.Env.Environ()
	out, err := cmd.Output()
	if err != nil {
		return "docker found, context unknown (" + firstLine(err.Error()) + ")"
	}
	return "context " + strings.TrimSpace(string(out))
}

// printPlan lists every change and returns how many would change something.
func printPlan(w io.Writer, rep step.Report, placeholders, deferred map[string]bool) int {
	fmt.Fprintln(w, "The plan:")
	todo := 0
	for _, c := range rep.Plans {
		if placeholders[c.Step] {
			printWrapped(w, "    ", "  - %s", c.Summary)
			continue
		}
		if c.None {
			printWrapped(w, "    ", "  ✓ %s", c.Summary)
			continue
		}
		todo++
		printWrapped(w, "    ", "  • %s", c.Summary)
		for _, t := range c.Targets {
			fmt.Fprintf(w, "      %s\n", t)
		}
	}
	for _, r := range rep.Results {
		if deferred[r.Step] {
			printWrapped(w, "    ", "  … %s (checked again after the changes above)", r.Detail)
			continue
		}
		printWizardResult(w, r)
	}
	return todo
}

func printWizardResult(w io.Writer, r step.Result) {
	switch r.Status {
	case step.StatusChanged:
		printWrapped(w, "  ", "✓ %s", r.Detail)
	case step.StatusDone:
		d := r.Detail
		if !strings.Contains(strings.ToLower(d), "already") {
			d += " (already done)"
		}
		printWrapped(w, "  ", "✓ %s", d)
	case step.StatusSkipped:
		printWrapped(w, "  ", "- %s", r.Detail)
	case step.StatusFailed:
		printWrapped(w, "  ", "✗ %s", r.Detail)
		if r.Fix != "" {
			printWrapped(w, "       ", "  fix: %s", r.Fix)
		}
	}
}

func (o *WizardOptions) printSummary(w io.Writer, s *wizardSession, a wizard.Answers, rep step.Report, took time.Duration) {
	n := map[step.Status]int{}
	for _, r := range rep.Results {
		n[r.Status]++
	}
	fmt.Fprintln(w)
	switch {
	case rep.Failed():
		fmt.Fprintf(w, "Setup stopped: %d failed (see the fix above), %d changed, %d already done. Fix it and run cdb-setup again; finished steps are not repeated.\n",
			n[step.StatusFailed], n[step.StatusChanged], n[step.StatusDone])
		return
	case n[step.StatusChanged] == 0:
		fmt.Fprintf(w, "Everything already done ✓ (%s)\n", took.Round(100*time.Millisecond))
	default:
		fmt.Fprintf(w, "Done in %s: %d changed, %d already done, %d skipped.\n",
			took.Round(100*time.Millisecond), n[step.StatusChanged], n[step.StatusDone], n[step.StatusSkipped])
	}
	if changedArea(rep, "env.") {
		fmt.Fprintln(w, "What to restart:")
		for _, n := range platform.RestartNotes(persistOptions(setup.Input{Answers: a, Workspace: s.Workspace})) {
			fmt.Fprintf(w, "  • %s\n", n)
		}
	}
	if ranArea(rep, "stack.up") {
		for _, c := range s.Manifest.Checks {
			if c.Kind == "http-basic-auth" {
				fmt.Fprintf(w, "%s: http://%s (user %s, password in %s)\n", c.Service, c.Address, c.User, filepath.Join(a.SecretsPath, c.Secret))
			}
		}
	}
	fmt.Fprintf(w, "Secrets folder: %s\n", a.SecretsPath)
	if o.hasCommand("uninstall") {
		fmt.Fprintln(w, "Undo: cdb-setup uninstall (keeps the secrets; --purge removes them too)")
		if ranArea(rep, "stack.up") {
			// uninstall undoes recorded changes; the stack is compose's.
			fmt.Fprintf(w, "Stop the stack: %s (uninstall leaves it running)\n", rerunCommand(o.F, "down", nil))
		}
	}
	fmt.Fprintln(w, "Check any time: cdb-setup doctor")
}

func changedArea(rep step.Report, prefix string) bool {
	for _, r := range rep.Results {
		if r.Status == step.StatusChanged && strings.HasPrefix(r.Step, prefix) {
			return true
		}
	}
	return false
}

func ranArea(rep step.Report, prefix string) bool {
	for _, r := range rep.Results {
		if (r.Status == step.StatusChanged || r.Status == step.StatusDone) && strings.HasPrefix(r.Step, prefix) {
			return true
		}
	}
	return false
}

// hasCommand reports whether this build has a top-level command (the
// summary only advertises what exists).
func (o *WizardOptions) hasCommand(name string) bool {
	if o.root == nil {
		return false
	}
	c, _, err := o.root.Find([]string{name})
	return err == nil && c != o.root
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}
