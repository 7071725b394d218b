package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/claire-de-binare/cdb-setup/internal/manifest"
)

// NewCmdManifest builds `cdb-setup manifest`: the manifest cdb-setup reads
// (docs/manifest.md).
func NewCmdManifest(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "manifest",
		Short: "Work with cdb-setup.yaml, the description of the stack (docs/manifest.md)",
	}
	cmd.AddCommand(NewCmdManifestPrint(f, nil))
	return cmd
}

// ManifestPrintOptions are the inputs of `cdb-setup manifest print`.
type ManifestPrintOptions struct{ F *Factory }

// NewCmdManifestPrint builds `cdb-setup manifest print`.
func NewCmdManifestPrint(f *Factory, runF func(*ManifestPrintOptions) error) *cobra.Command {
	opts := &ManifestPrintOptions{F: f}
	return &cobra.Command{
		Use:   "print",
		Short: "Print the built-in CDB manifest, to start a cdb-setup.yaml from",
		Long: `print writes the built-in manifest cdb-setup uses for the Claire de Binare
repository when it has no cdb-setup.yaml, as YAML on stdout:

  cdb-setup manifest print > cdb-setup.yaml

Keep only the keys you change: every key your file leaves out keeps the
built-in value (docs/manifest.md says which keys go together).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(opts)
			}
			return manifestPrintRun(opts)
		},
	}
}

func manifestPrintRun(o *ManifestPrintOptions) error {
	b, err := manifest.Default().Marshal()
	if err != nil {
		return err
	}
	// The product itself, like a completion script: stdout, or the
	// envelope's data under --json.
	w := productOut{o.F}
	fmt.Fprintf(w, "# The built-in manifest for the Claire de Binare repository (cdb-setup manifest print).\n"+
		"# As %s at the repository root, each key you keep replaces the built-in value;\n"+
		"# keys you delete keep it. Field by field: docs/manifest.md\n", manifest.FileName)
	_, err = w.Write(b)
	return err
}
