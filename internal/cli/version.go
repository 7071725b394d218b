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
