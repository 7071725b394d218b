package cli

import (
	"bufio"
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/claire-de-binare/cdb-setup/internal/platform"
	"github.com/claire-de-binare/cdb-setup/internal/workspace"
)

// NewCmdEnv builds `cdb-setup env` and its subcommands.
func NewCmdEnv(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "env",
		Short: "Make SECRETS_PATH visible to every new shell, IDE and compose run",
		Long: `docker compose needs SECRETS_PATH to find the secret files. These commands set it
once for your user, show where it is set and what a new shell really sees, and
remove exactly what they added.`,
	}
	cmd.AddCommand(NewCmdEnvSet(f, nil))
	cmd.AddCommand(NewCmdEnvStatus(f, nil))
	cmd.AddCommand(NewCmdEnvUnset(f, nil))
	return cmd
}

// composeEnvFile is the .env compose reads: in the folder of the first -f
// file (the workspace's compose folder, infrastructure/compose for CDB), not
// the repository root. "" when no clone with a manifest is known.
func composeEnvFile(ws *workspace.Workspace) string {
	if ws.ComposeDir == "" {
		return ""
	}
	return filepath.Join(ws.ComposeDir, ".env")
}

// gitIgnores reports whether git ignores path in repo. Writing a path into a
// file git would commit is how secrets-adjacent settings leak, so anything
// but a clear "ignored" answer is a no.
func gitIgnores(ctx context.Context, repo, path string) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	rel, err := filepath.Rel(repo, path)
	if err != nil {
		return false, err
	}
	cmd := exec.CommandContext(ctx, "git", "-C", repo, "check-ignore", "-q", "--no-index", filepath.ToSlash(rel))
	err = cmd.Run()
	if err == nil {
		return true, nil
	}
	if ee, ok := err.(*exec.ExitError); ok && ee.ExitCode() == 1 {
		return false, nil
	}
	return false, fmt.Errorf("git check-ignore %s: %w", rel, err)
}

// confirm asks a yes/no question on the terminal; the default is no.
func confirm(f *Factory, question string) (bool, error) {
	fmt.Fprintf(f.IO.ErrOut, "%s [y/N] ", question)
	line, err := bufio.NewReader(f.IO.In).ReadString('\n')
	if err != nil && line == "" {
		return false, err
	}
	a := strings.ToLower(strings.TrimSpace(line))
	return a == "y" || a == "yes", nil
}

// envUndoers is the part of the uninstall table that env unset uses.
func envUndoers() map[string]platform.Undoer {
	out := map[string]platform.Undoer{}
	for k, v := range platform.EnvUndoers() {
		out[k] = v
	}
	return out
}
