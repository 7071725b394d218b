package cli

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/client"
	"github.com/spf13/cobra"

	"github.com/claire-de-binare/cdb-setup/internal/exitcode"
	"github.com/claire-de-binare/cdb-setup/internal/manifest"
	"github.com/claire-de-binare/cdb-setup/internal/platform"
	"github.com/claire-de-binare/cdb-setup/internal/rekey"
	"github.com/claire-de-binare/cdb-setup/internal/rotate"
	"github.com/claire-de-binare/cdb-setup/internal/secrets"
	"github.com/claire-de-binare/cdb-setup/internal/stack"
	"github.com/claire-de-binare/cdb-setup/internal/step"
	"github.com/claire-de-binare/cdb-setup/internal/volpass"
)

// SecretsRecoverOptions are the inputs of `cdb-setup secrets recover`.
type SecretsRecoverOptions struct {
	F         *Factory
	Selection SelectionFlags
	// NoUp stops after the secrets are back (the stack is not started).
	NoUp bool
}

// NewCmdSecretsRecover builds `cdb-setup secrets recover`.
func NewCmdSecretsRecover(f *Factory, runF func(*SecretsRecoverOptions) error) *cobra.Command {
	opts := &SecretsRecoverOptions{F: f}
	cmd := &cobra.Command{
		Use:   "recover",
		Short: "Bring back the passwords volumes keep after the secrets folder was lost, without deleting data",
		Long: `For each password a Docker volume keeps (POSTGRES_PASSWORD, GRAFANA_PASSWORD)
whose file is missing or does not match the volume, recover tries, in order:

  1. the keychain mirror (` + "`cdb-setup keychain push`" + ` made one),
  2. a backup in <SECRETS_PATH>/.backup,
  3. re-keying the service to a newly generated password: postgres through
     its container's local socket (no old password needed), Grafana through
     its CLI. The service is started alone if it is not running.

A candidate is used only when the volume is known to hold it (the role's
SCRAM verifier while postgres runs, or the fingerprint cdb-setup recorded).
Other missing secrets are generated as init would, then the stack is started
(` + "`up`" + `), which recreates the containers that read a changed secret at start.
No data is deleted. Deleting a volume stays a separate, explicit command.`,
		Example: `  cdb-setup secrets recover
  cdb-setup secrets recover --dry-run`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(opts)
			}
			return secretsRecoverRun(opts)
		},
	}
	opts.Selection.register(cmd)
	cmd.Flags().BoolVar(&opts.NoUp, "no-up", false, "stop once the secrets are back; do not start the stack")
	return cmd
}

// keptSecret is one password a volume keeps, and how recover gets it back.
type keptSecret struct {
	s      secrets.Secret
	vol    string
	login  *manifest.Check
	value  []byte
	source string // "keychain mirror", "backup <path>", "" (re-key)
	rekey  bool
	ok     bool // the file already holds the volume's password
	// keepFile: re-key the service to the file's current value.
	keepFile bool
}

func selectionStack(sel SelectionFlags) *StackFlags {
	sf := &StackFlags{Profile: sel.Profile, Overlays: append([]string(nil), sel.Overlays...)}
	if sel.TLS {
		sf.Overlays = append(sf.Overlays, "tls")
	}
	return sf
}

func secretsRecoverRun(opts *SecretsRecoverOptions) error {
	f := opts.F
	w := f.IO.ErrOut
	ctx := f.ctx()
	sc, err := loadSecrets(f, opts.Selection)
	if err != nil {
		return err
	}
	if err := preflight(f, sc); err != nil {
		return err
	}
	sf := selectionStack(opts.Selection)
	ls, err := loadStack(f, sf)
	if err != nil {
		return err
	}
	api, _, err := stack.Connect(ctx, f.Env, sc.Facts.Home, sc.Facts.OS)
	if err != nil {
		return exitcode.Environmentf("recover needs the Docker Engine to see which volumes exist: %v", err)
	}
	defer api.Close()
	info, err := api.Info(ctx)
	if err != nil {
		return exitcode.Environmentf("docker info: %v", err)
	}
	if sc.StateDir == "" {
		return exitcode.Environmentf("no state folder: %v", sc.StateDirErr)
	}
	book, err := volpass.Open(sc.StateDir)
	if err != nil {
		return err
	}
	running, err := rotate.Running(ctx, api, ls.Inv.Project)
	if err != nil {
		return fmt.Errorf("list the running containers: %w", err)
	}
	containerOf := func(svc string) string {
		for _, c := range running {
			if c.Service == svc {
				return c.ID
			}
		}
		return ""
	}
	mirror := secretsMirror(sc)

	var kept []*keptSecret
	for _, s := range sc.Catalogue.Secrets {
		if s.Policy.Kind != manifest.KindGenerated || s.Policy.Volume == "" {
			continue
		}
		vol := volumeName(ls, s.Policy.Volume)
		if _, err := api.VolumeInspect(ctx, vol); cerrdefs.IsNotFound(err) {
			continue // no volume: init makes a fresh password
		} else if err != nil {
			return fmt.Errorf("look up the volume %s: %w", vol, err)
		}
		k := &keptSecret{s: s, vol: vol}
		for i, c := range ls.Manifest.Checks {
			if c.Secret == s.Name && (c.Kind == "postgres-login" || c.Kind == "http-basic-auth") {
				k.login = &ls.Manifest.Checks[i]
			}
		}
		// holds: true/false when known, nil when nothing can tell.
		holds := func(v []byte) *bool {
			if k.login != nil && k.login.Kind == "http-basic-auth" && containerOf(k.login.Service) != "" {
				if ok, err := stack.Accepts(ctx, *k.login, string(v)); err == nil {
					return &ok
				}
			}
			if k.login != nil && k.login.Kind == "postgres-login" {
				if id := containerOf(k.login.Service); id != "" {
					pg := rekey.Postgres{API: api, Container: id, User: k.login.User, Database: k.login.Database}
					if h, err := pg.Holds(ctx, v); err == nil {
						return &h
					}
				}
			}
			switch verdict, _ := book.Compare(info.ID, vol, v); verdict {
			case volpass.Match:
				t := true
				return &t
			case volpass.Mismatch:
				f := false
				return &f
			}
			return nil
		}
		cur, _ := secrets.ReadSecret(s.Path)
		if len(cur) > 0 {
			if h := holds(cur); h == nil || *h {
				k.ok = true // matches, or nothing can tell: leave the file alone
				kept = append(kept, k)
				continue
			}
		}
		// 1. The keychain mirror; 2. backups, newest first.
		if v, err := mirror.Copy(ctx, s.Name); err == nil && len(v) > 0 {
			if h := holds(v); h == nil && len(cur) == 0 || h != nil && *h {
				k.value, k.source = v, "the keychain mirror"
				if h == nil {
					k.source += " (not verifiable: no record of this volume; the login after start checks it)"
				}
			}
		} else if err != nil && !secrets.KeychainUnavailable(err) {
			fmt.Fprintf(w, "! the keychain mirror could not be read (%s); trying backups\n", oneLine(err))
		}
		if k.value == nil {
			bs, _ := filepath.Glob(filepath.Join(sc.SecretsDir, ".backup", s.Name+".*"))
			sort.Sort(sort.Reverse(sort.StringSlice(bs)))
			for _, b := range bs {
				v, err := secrets.ReadSecret(b)
				if err != nil || len(v) == 0 {
					continue
				}
				if h := holds(v); h != nil && *h {
					k.value, k.source = v, "the backup "+b
					break
				}
			}
		}
		// 3. Re-key the service: to the file's value when there is one,
		// else to a new password.
		if k.value == nil && len(cur) > 0 && k.login != nil {
			k.value, k.rekey, k.keepFile = cur, true, true
		}
		if k.value == nil {
			if k.login == nil {
				return step.WithFix(fmt.Errorf("%s is lost and no copy matches the volume %s, and cdb-setup knows no way to change it inside the service (no login check in the manifest)", s.Name, vol),
					fmt.Sprintf("put the password %s holds into %s; last resort, deletes %s and all its data (asks first): `%s --recreate-volume %s`", vol, s.Path, vol, rerunCommand(f, "up", nil), vol))
			}
			v, err := secrets.GenerateFor(s.Policy)
			if err != nil {
				return err
			}
			k.value, k.rekey = v, true
		}
		kept = append(kept, k)
	}

	fmt.Fprintln(w, "Plan:")
	for _, k := range kept {
		switch {
		case k.ok:
			fmt.Fprintf(w, "  • %s: the file is kept (the volume %s holds it, or nothing can tell until the login)\n", k.s.Name, k.vol)
		case k.keepFile:
			fmt.Fprintf(w, "  • %s: the volume %s holds another password: change it inside %s to the one in the file (data kept)\n", k.s.Name, k.vol, k.login.Service)
		case k.rekey:
			fmt.Fprintf(w, "  • %s: no copy matches the volume %s: generate a new password and change it inside %s (data kept)\n", k.s.Name, k.vol, k.login.Service)
		default:
			fmt.Fprintf(w, "  • %s: restore from %s\n", k.s.Name, k.source)
		}
	}
	fmt.Fprintln(w, "  • the other missing secrets: from the keychain mirror if it has them, else generated as `secrets init` would")
	if !opts.NoUp {
		fmt.Fprintf(w, "  • start the stack: %s\n", rerunCommand(f, "up", nil))
	}
	if f.Global.DryRun {
		return nil
	}
	unlock, err := lockUnlessDryRun(f, "cdb-setup secrets recover")
	if err != nil {
		return err
	}
	// Write the recovered and new values (old files backed up), re-derive.
	var steps []step.Step
	for _, k := range kept {
		if k.ok || k.keepFile {
			continue
		}
		st, err := secrets.RotateSteps(secrets.RotateOptions{Options: sc.Options, Name: k.s.Name, InService: true, Value: k.value})
		if err != nil {
			unlock()
			return err
		}
		steps = append(steps, st...)
	}
	// Other missing secrets: the keychain copy when there is one (redis then
	// keeps its password), else generated as init would.
	if names, err := mirror.Restorable(ctx); err == nil && len(names) > 0 {
		steps = append(steps, secrets.KeychainPullSteps(mirror, false)...)
	}
	init, err := secrets.InitSteps(secrets.InitOptions{Options: sc.Options})
	if err != nil {
		unlock()
		return err
	}
	steps = append(steps, init...)
	if _, err := runSteps(f, steps, false); err != nil {
		unlock()
		return err
	}
	// Re-key: the service must run (alone if needed; it ignores its
	// password file once its volume is initialised).
	for _, k := range kept {
		if !k.rekey {
			continue
		}
		if err := rekeyRecovered(ctx, f, ls, api, k); err != nil {
			unlock()
			fix := step.FixOf(err)
			if fix == "" {
				fix = fmt.Sprintf("fix the cause above and run `cdb-setup secrets recover` again; last resort, deletes %s and all its data (asks first): `%s --recreate-volume %s`", k.vol, rerunCommand(f, "up", nil), k.vol)
			}
			return exitcode.New(exitcode.Failed, step.WithFix(fmt.Errorf("%s: %w; state: %s holds a new password, %s still has the one it had", k.s.Name, err, k.s.Path, k.login.Service), fix))
		}
		fmt.Fprintf(w, "✓ %s changed inside %s (data kept)\n", k.s.Name, k.login.Service)
	}
	for _, k := range kept {
		if k.ok {
			continue
		}
		if err := book.Record(volpass.Entry{EngineID: info.ID, Volume: k.vol, Secret: k.s.Name, How: "recovered by cdb-setup secrets recover"}, k.value); err != nil {
			fmt.Fprintf(w, "! could not record which password %s holds: %v\n", k.vol, err)
		}
	}
	unlock()
	if opts.NoUp {
		fmt.Fprintf(w, "✓ secrets recovered; start the stack with `%s`\n", rerunCommand(f, "up", nil))
		return nil
	}
	return upRun(&UpOptions{F: f, Stack: *sf})
}

// rekeyRecovered sets k's new password inside its running service.
func rekeyRecovered(ctx context.Context, f *Factory, ls *loadedStack, api *client.Client, k *keptSecret) error {
	svc := k.login.Service
	running, err := rotate.Running(ctx, api, ls.Inv.Project)
	if err != nil {
		return err
	}
	id := ""
	for _, c := range running {
		if c.Service == svc {
			id = c.ID
		}
	}
	if id == "" {
		compose, err := stack.LocateCompose(ctx, f.Env, nil)
		if err != nil {
			return err
		}
		fmt.Fprintf(f.IO.ErrOut, "Starting %s alone to change its password inside it.\n", svc)
		if _, err := compose.Run(ctx, ls.Inv, nil, "up", "-d", "--no-deps", "--wait", svc); err != nil {
			return err
		}
		if running, err = rotate.Running(ctx, api, ls.Inv.Project); err != nil {
			return err
		}
		for _, c := range running {
			if c.Service == svc {
				id = c.ID
			}
		}
		if id == "" {
			return errors.New(svc + " did not start")
		}
	}
	switch k.login.Kind {
	case "postgres-login":
		pg := rekey.Postgres{API: api, Container: id, User: k.login.User, Database: k.login.Database}
		err = pg.SetPassword(ctx, k.value)
		if errors.Is(err, rekey.ErrLocalNotTrusted) {
			return step.WithFix(err, fmt.Sprintf("postgres asks for a password on its local socket, and the old one is lost: put the password %s holds into %s, or (last resort, deletes all its data; asks first) `%s --recreate-volume %s`", k.vol, k.s.Path, rerunCommand(f, "up", nil), k.vol))
		}
		return err
	case "http-basic-auth":
		return (rekey.Grafana{API: api, Container: id}).SetAdminPassword(ctx, k.value)
	}
	return fmt.Errorf("no way to change %s inside %s", k.s.Name, svc)
}

// lockedOutVolumes lists the volumes that keep a password whose file is
// missing and will not be restored: `secrets init` would generate a new
// one the service refuses. Without an Engine nothing is known (nil).
func lockedOutVolumes(f *Factory, sc *secretsContext, restoring map[string]bool) []string {
	return lostPasswords(f.ctx(), f.Env, sc.Facts.Home, sc.Facts.OS, sc.Catalogue, sc.Project, restoring)
}

// lostPasswords lists "NAME (kept in VOLUME)" for each generated secret
// whose file is missing or empty while the volume keeping it exists.
func lostPasswords(ctx context.Context, env platform.Environment, home, goos string, cat *secrets.Catalogue, project string, skip map[string]bool) []string {
	var missing []secrets.Secret
	for _, s := range cat.Secrets {
		if s.Policy.Kind != manifest.KindGenerated || s.Policy.Volume == "" || skip[s.Name] {
			continue
		}
		if b, err := secrets.ReadSecret(s.Path); err == nil && len(b) > 0 {
			continue
		}
		missing = append(missing, s)
	}
	if len(missing) == 0 {
		return nil // every file is there: no volume to ask the Engine about
	}
	api, _, err := stack.Connect(ctx, env, home, goos)
	if err != nil {
		return nil
	}
	defer api.Close()
	var out []string
	for _, s := range missing {
		vol := project + "_" + s.Policy.Volume
		if _, err := api.VolumeInspect(ctx, vol); err == nil {
			out = append(out, fmt.Sprintf("%s (kept in %s)", s.Name, vol))
		}
	}
	return out
}

// volumeGuard is the wizard's step before it creates secrets: its plan
// fails when a volume keeps a password whose file is missing, so no step
// generates a password the service would refuse (the engine applies no
// step when a plan failed).
type volumeGuard struct {
	env        platform.Environment
	home, goos string
	cat        *secrets.Catalogue
	project    string
}

func (g *volumeGuard) ID() string { return "secrets.volumes" }

func (g *volumeGuard) Plan(ctx context.Context) (step.Change, error) {
	if lost := lostPasswords(ctx, g.env, g.home, g.goos, g.cat, g.project, nil); len(lost) > 0 {
		return step.Change{}, step.WithFix(fmt.Errorf("missing, while their Docker volumes exist: %s; new passwords would lock the services out of their data", strings.Join(lost, ", ")),
			"cdb-setup secrets recover   # keychain mirror, backup, or re-keys the running service; keeps the data")
	}
	return step.Change{Step: g.ID(), None: true, Summary: "no Docker volume keeps a password whose file is missing"}, nil
}

func (g *volumeGuard) Apply(ctx context.Context) (step.Result, error) {
	if _, err := g.Plan(ctx); err != nil {
		return step.Failed(g.ID(), err, step.FixOf(err)), nil
	}
	return step.Result{Step: g.ID(), Status: step.StatusDone, Detail: "no Docker volume keeps a password whose file is missing"}, nil
}

// initStopsForVolumes is secrets init's guard (issue 12): it stops instead
// of generating passwords that volumes would refuse.
func initStopsForVolumes(f *Factory, sc *secretsContext, restoring map[string]bool) error {
	lost := lockedOutVolumes(f, sc, restoring)
	if len(lost) == 0 {
		return nil
	}
	// Main prints it with its fix (and puts both in the --json envelope).
	err := step.WithFix(fmt.Errorf("missing, while their Docker volumes exist: %s; new passwords would lock the services out of their data", strings.Join(lost, ", ")),
		"cdb-setup secrets recover   # keychain mirror, backup, or re-keys the running service; keeps the data")
	f.report(step.Report{Results: []step.Result{step.Failed("secrets.init", err, step.FixOf(err))}})
	return exitcode.New(exitcode.Failed, err)
}
