package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/claire-de-binare/cdb-setup/internal/checks"
	"github.com/claire-de-binare/cdb-setup/internal/exitcode"
	"github.com/claire-de-binare/cdb-setup/internal/secrets"
)

// SecretsCheckOptions are the inputs of `cdb-setup secrets check`.
type SecretsCheckOptions struct {
	F         *Factory
	Selection SelectionFlags
}

// NewCmdSecretsCheck builds `cdb-setup secrets check`.
func NewCmdSecretsCheck(f *Factory, runF func(*SecretsCheckOptions) error) *cobra.Command {
	opts := &SecretsCheckOptions{F: f}
	cmd := &cobra.Command{
		Use:   "check",
		Short: "Lint every secret file; exit 1 naming each problem",
		Long: `Check the secrets folder and every secret file, changing nothing: CRLF or a
trailing newline, BOM, UTF-16, NUL, surrounding whitespace, an empty required
secret, a folder or symlink where a file should be, a DSN that does not match
POSTGRES_PASSWORD, wrong permissions, a secrets folder inside the git work tree
that git does not ignore. Exit 1 on any error; ` + "`cdb-setup secrets fix`" + ` repairs the
problems marked fixable.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(opts)
			}
			return secretsCheckRun(opts)
		},
	}
	opts.Selection.register(cmd)
	return cmd
}

// checkJSON is the --json output of check. No values, only facts.
type checkJSON struct {
	secrets.CheckReport
	DirSource string `json:"dir_source"`
	Errors    int    `json:"errors"`
	OK        bool   `json:"ok"`
}

func secretsCheckRun(opts *SecretsCheckOptions) error {
	f := opts.F
	sc, err := loadSecrets(f, opts.Selection)
	if err != nil {
		return err
	}
	rep := secrets.CheckAll(f.ctx(), secrets.CheckOptions{Options: sc.Options, CloudSync: sc.Facts.CloudSync, Documents: sc.Facts.Documents})
	w := f.reportOut()
	fixable := 0
	line := func(p secrets.Problem) {
		o := checks.FromLint(p)
		if p.Fixable && o.Status == checks.Fail {
			o.Detail += " [fixable]"
			fixable++
		}
		printCheck(w, o)
	}
	for _, p := range rep.Folder {
		line(p)
	}
	for _, s := range rep.Secrets {
		if len(s.Problems) == 0 {
			printCheck(w, checks.Outcome{ID: "secret-lint", Result: checks.Result{Status: checks.OK, Detail: fmt.Sprintf("%s (%d bytes)", s.Name, s.Bytes)}})
			continue
		}
		for _, p := range s.Problems {
			line(p)
		}
	}
	n := rep.Errors()
	f.setData(checkJSON{CheckReport: rep, DirSource: sc.SecretsSource, Errors: n, OK: n == 0})
	if n > 0 {
		fmt.Fprintf(w, "%d problem(s)", n)
		if fixable > 0 {
			fmt.Fprintf(w, "; %d can be repaired with `cdb-setup secrets fix`", fixable)
		}
		fmt.Fprintln(w)
		return explained(exitcode.Failed, fmt.Errorf("%d problem(s) with the secret files (see data)", n))
	}
	fmt.Fprintln(w, "All secrets are in order.")
	return nil
}
