package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/claire-de-binare/cdb-setup/internal/buildinfo"
)

// VersionOptions are the inputs of `cdb-setup version`.
type VersionOptions struct {
	F *Factory
}

// NewCmdVersion builds `cdb-setup version`.
func NewCmdVersion(f *Factory, runF func(*VersionOptions) error) *cobra.Command {
	opts := &VersionOptions{F: f}
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version, commit and build date",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(opts)
			}
			return versionRun(opts)
		},
	}
}

func versionRun(opts *VersionOptions) error {
	info := buildinfo.Get()
	if opts.F.Global.JSON {
		opts.F.setData(info)
		return nil
	}
	fmt.Fprintf(opts.F.IO.Out, "cdb-setup %s (commit %s, built %s, %s, %s)\n",
		info.Version, info.Commit, info.Date, info.GoVersion, info.Platform)
	return nil
}

// bindVersionFlag makes `cdb-setup --version` do what `cdb-setup version`
// does (stdout, and the envelope's data under --json). Cobra's own version
// flag would print on cobra's writer, which is stderr here.
func bindVersionFlag(root *cobra.Command, f *Factory) {
	var show bool
	root.Flags().BoolVar(&show, "version", false, "print the version, like `cdb-setup version`")
	run := root.RunE
	root.RunE = func(cmd *cobra.Command, args []string) error {
		if show {
			return versionRun(&VersionOptions{F: f})
		}
		return run(cmd, args)
	}
}
