package cli

import (
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/claire-de-binare/cdb-setup/internal/checks"
	"github.com/claire-de-binare/cdb-setup/internal/exitcode"
	"github.com/claire-de-binare/cdb-setup/internal/tlscert"
)

// TLSOptions are the inputs of `cdb-setup tls init|check|rotate`.
type TLSOptions struct {
	F       *Factory
	Action  string // init, check, rotate
	Profile string
	// changed is set when init or rotate wrote a file (the wizard's step).
	changed bool
}

// NewCmdTLS wires `cdb-setup tls` and its three actions.
func NewCmdTLS(f *Factory, runF func(*TLSOptions) error) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "tls",
		Short: "Local certificates for `up --overlay tls`: a CA, redis and postgres server certificates, a client certificate",
		Long: `Make, check and renew the certificates the TLS overlay needs, in the secrets
folder's tls/ folder: a local CA (its key stays in tls/ca/ and never reaches a
container), one ECDSA P-256 certificate per TLS server valid for its compose
service name, its container_name, localhost, 127.0.0.1 and ::1, and a client
certificate for redis-cli. Then ` + "`cdb-setup up --overlay tls`" + ` uses them. See docs/tls.md for
how to trust the CA in psql, redis-cli or Python.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return cmd.Help() },
	}
	for _, a := range []struct{ name, short, long string }{
		{"init", "Make the local CA and the certificates that are missing (keeps valid ones)",
			"Make the local CA and every certificate that is missing or no longer valid for\nthe services' names; valid files are kept, so running it twice changes nothing."},
		{"check", "Verify chain, names, key pairs and expiry; exit 1 naming each problem",
			"Verify, changing nothing: every file present, each certificate signed by the\nlocal CA, valid for every name of its service, paired with its key, not\nexpired (a warning 30 days before), keys private."},
		{"rotate", "Issue new server and client certificates and keys (same CA; old files kept in tls/.backup)",
			"Issue new server and client certificates with new keys, signed by the same CA\n(clients that trust ca.crt keep working). The CA is renewed too only when it\nexpires within 30 days. The old files go to tls/.backup/<time>/. Running\ncontainers keep the old certificates until `cdb-setup up --overlay tls` recreates the\nservices that mount them (and only those)."},
	} {
		opts := &TLSOptions{F: f, Action: a.name}
		sub := &cobra.Command{
			Use: a.name, Short: a.short, Long: a.long, Args: cobra.NoArgs,
			Example: "  cdb-setup tls " + a.name,
			RunE: func(cmd *cobra.Command, args []string) error {
				if runF != nil {
					return runF(opts)
				}
				return tlsRun(opts)
			},
		}
		sub.Flags().StringVar(&opts.Profile, "profile", "", "compose profile whose services the certificates are for (default: the manifest's default)")
		cmd.AddCommand(sub)
	}
	return cmd
}

// tlsReport is the --json data of the tls commands.
type tlsReport struct {
	OK      bool           `json:"ok"`
	Dir     string         `json:"dir"`
	Leaves  []tlsLeafJSON  `json:"certificates"`
	Created []string       `json:"created,omitempty"`
	Renewed []string       `json:"renewed,omitempty"`
	Kept    []string       `json:"kept,omitempty"`
	Backup  string         `json:"backup,omitempty"`
	Check   checks.Outcome `json:"check"`
}

type tlsLeafJSON struct {
	Name  string   `json:"name"`
	Names []string `json:"valid_for"`
}

func tlsRun(opts *TLSOptions) error {
	f := opts.F
	// check's lines are a report (stdout); init's and rotate's, progress.
	w := f.IO.ErrOut
	if opts.Action == "check" {
		w = f.reportOut()
	}
	ls, err := loadStack(f, &StackFlags{Profile: opts.Profile, Overlays: []string{"tls"}})
	if err != nil {
		return err
	}
	st := ls.TLS
	rep := &tlsReport{Dir: st.CertDir}
	for _, l := range st.Leaves {
		rep.Leaves = append(rep.Leaves, tlsLeafJSON{Name: l.Name, Names: l.Names()})
	}
	f.setData(rep)
	if len(st.Leaves) == 0 {
		return exitcode.New(exitcode.Failed, fmt.Errorf("%s names no postgres-login or redis-auth check, so cdb-setup does not know which services are the TLS servers (add them under checks)", ls.ManifestSource))
	}
	if opts.Action != "check" {
		if f.Global.DryRun {
			fmt.Fprintf(w, "Would %s in %s:\n", map[string]string{"init": "make what is missing", "rotate": "issue new server and client certificates"}[opts.Action], st.CertDir)
			for _, l := range st.Leaves {
				fmt.Fprintf(w, "  %s.crt valid for %s\n", l.Name, strings.Join(l.Names(), ", "))
			}
			rep.OK = true
			return nil
		}
		unlock, err := lockUnlessDryRun(f, "cdb-setup tls "+opts.Action)
		if err != nil {
			return err
		}
		defer unlock()
		do := tlscert.Init
		if opts.Action == "rotate" {
			do = tlscert.Rotate
		}
		out, err := do(st.CertDir, st.Leaves, time.Now())
		rep.Created, rep.Renewed, rep.Kept, rep.Backup = out.Created, out.Renewed, out.Kept, out.Backup
		opts.changed = len(out.Created)+len(out.Renewed) > 0
		if err != nil {
			return exitcode.New(exitcode.Failed, err)
		}
		fmt.Fprintf(w, "Certificates in %s:\n", st.CertDir)
		for _, g := range []struct {
			what  string
			files []string
		}{{"created", out.Created}, {"renewed", out.Renewed}, {"kept (valid)", out.Kept}} {
			if len(g.files) > 0 {
				fmt.Fprintf(w, "  %s: %s\n", g.what, strings.Join(g.files, ", "))
			}
		}
		if out.Backup != "" {
			fmt.Fprintf(w, "  the replaced files are in %s\n", out.Backup)
		}
		for _, l := range st.Leaves {
			fmt.Fprintf(w, "  %s.crt is valid for %s\n", l.Name, strings.Join(l.Names(), ", "))
		}
	}
	o := checks.Outcome{ID: "tls.certs", Title: "TLS certificates", Result: checks.TLSCerts(st.CertDir, st.Leaves)}
	rep.Check = o
	printCheck(w, o)
	if o.Status == checks.Fail {
		return explained(exitcode.Failed, fmt.Errorf("the TLS certificates in %s are not usable: %s", st.CertDir, o.Detail))
	}
	rep.OK = true
	switch opts.Action {
	case "init":
		fmt.Fprintf(w, "Next: cdb-setup up --overlay tls (trust the CA elsewhere: docs/tls.md, the CA is %s)\n", filepath.Join(st.CertDir, tlscert.CAFile))
	case "rotate":
		fmt.Fprintln(w, "Running containers keep the old certificates until recreated: cdb-setup up --overlay tls recreates only the services that mount them.")
	}
	return nil
}
