package cli

import (
	"errors"

	"github.com/spf13/cobra"

	"github.com/claire-de-binare/cdb-setup/internal/exitcode"
	"github.com/claire-de-binare/cdb-setup/internal/secrets"
)

// SecretsFromEnvOptions are the inputs of `cdb-setup secrets from-env`.
type SecretsFromEnvOptions struct {
	F         *Factory
	Selection SelectionFlags
	Force     bool
}

// NewCmdSecretsFromEnv builds `cdb-setup secrets from-env`.
func NewCmdSecretsFromEnv(f *Factory, runF func(*SecretsFromEnvOptions) error) *cobra.Command {
	opts := &SecretsFromEnvOptions{F: f}
	cmd := &cobra.Command{
		Use:   "from-env",
		Short: "CI: write the secret files from CDB_SECRET_<NAME> variables; fail listing every missing one",
		Long: `Write each secret file from the variable CDB_SECRET_<NAME> (the file name
upper-cased, '.' and '-' as '_': MEXC_API_KEY.txt → CDB_SECRET_MEXC_API_KEY_TXT).

A trailing newline (echo) is stripped; a CR is rejected. Derived secrets
(POSTGRES_PASSWORD_DSN) are derived, never taken as given. Every missing
required variable is listed at once and nothing is written; there are no
fallback values. Optional external secrets without a variable become empty
files.`,
		Example: `  CDB_SECRET_REDIS_PASSWORD=... CDB_SECRET_POSTGRES_PASSWORD=... \
  CDB_SECRET_GRAFANA_PASSWORD=... cdb-setup secrets from-env --secrets-path "$RUNNER_TEMP/secrets"`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(opts)
			}
			return secretsFromEnvRun(opts)
		},
	}
	opts.Selection.register(cmd)
	cmd.Flags().BoolVar(&opts.Force, "force", false, "replace existing files holding other values (old values backed up)")
	return cmd
}

func secretsFromEnvRun(opts *SecretsFromEnvOptions) error {
	f := opts.F
	sc, err := loadSecrets(f, opts.Selection)
	if err != nil {
		return err
	}
	if err := preflight(f, sc); err != nil {
		return err
	}
	steps, err := secrets.FromEnvSteps(secrets.FromEnvOptions{Options: sc.Options, Environ: f.Env, Force: opts.Force})
	var fe *secrets.FromEnvError
	if errors.As(err, &fe) {
		// Main prints it with its fix.
		f.setData(map[string]any{"missing": nonNil(fe.Missing), "invalid": nonNil(fe.Invalid)})
		return exitcode.New(exitcode.Failed, err)
	}
	if err != nil {
		return exitcode.New(exitcode.Failed, err)
	}
	unlock, err := lockUnlessDryRun(f, "cdb-setup secrets from-env")
	if err != nil {
		return err
	}
	defer unlock()
	return runSecretSteps(f, steps, true)
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
