package checks

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"

	"github.com/claire-de-binare/cdb-setup/internal/manifest"
	"github.com/claire-de-binare/cdb-setup/internal/rekey"
	"github.com/claire-de-binare/cdb-setup/internal/secrets"
	"github.com/claire-de-binare/cdb-setup/internal/stack"
	"github.com/claire-de-binare/cdb-setup/internal/volpass"
)

// volumesSecrets tells, for each volume that keeps a password (manifest
// policy Volume:), whether it holds the password in the secret file
// (CDB_STACK.md, "Volumes keep passwords"). It never guesses from times: on
// Engine 20.10 a volume's CreatedAt moves at every postgres start and stop
// (issue 12, observation 1). In order of authority:
//
//  1. the running server: postgres' role verifier, read through the
//     container's local socket and checked locally (no login, no password
//     sent);
//  2. the fingerprint cdb-setup recorded when `up` initialised the volume or
//     `secrets rotate` re-keyed it (volpass);
//  3. otherwise unknown (a warning, never ✓): the login check after start
//     settles it.
//
// A mismatch stops `up` before anything starts.
func (p *Preflight) volumesSecrets(ctx context.Context) Result {
	var kept []SecretFile
	for _, s := range p.Secrets {
		if s.Policy.Volume != "" {
			kept = append(kept, s)
		}
	}
	if len(kept) == 0 {
		return ok("no started service keeps a password in a volume")
	}
	if p.Engine.Client == nil {
		return skip("Docker is not reachable")
	}
	engineID, err := p.engineID(ctx)
	if err != nil {
		return warn("cannot read the Docker Engine's ID: "+err.Error(), p.Rerun)
	}
	var book *volpass.Book
	var bookErr error
	if p.StateDir != "" {
		book, bookErr = volpass.Open(p.StateDir)
	} else {
		bookErr = errors.New("no state folder")
	}
	var fails, fixes, unknowns, oks []string
	for _, s := range kept {
		vol := p.volumeName(s.Policy.Volume)
		if slices.Contains(p.Recreate, vol) {
			oks = append(oks, fmt.Sprintf("%s: deleted before the start (--recreate-volume), so it is initialised with the current %s", vol, s.Name))
			if pw, err := secrets.ReadSecret(s.Path); err == nil {
				p.fresh = append(p.fresh, FreshVolume{Secret: s, Volume: vol, EngineID: engineID, password: pw})
			}
			continue
		}
		// Capped: a huge file is reported by secrets.files, never read whole.
		pw, readErr := secrets.ReadSecret(s.Path)
		_, err = p.Engine.Client.VolumeInspect(ctx, vol)
		if readErr != nil || len(pw) == 0 {
			missing := errors.Is(readErr, fs.ErrNotExist) || readErr == nil
			if err == nil && missing {
				// The volume keeps a password and the file is gone: a new
				// value (secrets init) would lock the service out.
				fails = append(fails, fmt.Sprintf("%s is missing or empty, and the volume %s keeps the password %s was initialised with", s.Name, vol, who(s)))
				if fix := "`cdb-setup secrets recover` brings them back (keychain mirror, backup) or re-keys the running services to new ones; the data is kept"; !slices.Contains(fixes, fix) {
					fixes = append(fixes, fix)
				}
			} else {
				unknowns = append(unknowns, fmt.Sprintf("%s: unknown whether it holds %s (the secret file cannot be read)", vol, s.Name))
			}
			continue
		}
		if cerrdefs.IsNotFound(err) {
			oks = append(oks, fmt.Sprintf("%s: no volume yet: the first start initialises it with the current %s (cdb-setup records a fingerprint of it)", vol, s.Name))
			p.fresh = append(p.fresh, FreshVolume{Secret: s, Volume: vol, EngineID: engineID, password: pw})
			continue
		}
		if err != nil {
			return warn(fmt.Sprintf("cannot look up the volume %s: %v", vol, err), "docker volume inspect "+vol+"   # then: "+p.Rerun)
		}
		// 1. The running server.
		if held, how, known := p.askServer(ctx, s, vol, pw); known {
			if held {
				oks = append(oks, fmt.Sprintf("%s holds the current %s (%s)", vol, s.Name, how))
				if book != nil {
					_ = book.Record(volpass.Entry{EngineID: engineID, Volume: vol, Secret: s.Name, How: how}, pw)
				}
				continue
			}
			fails = append(fails, fmt.Sprintf("%s holds another password than the current %s (%s): %s will reject it (\"password authentication failed\")", vol, s.Name, how, who(s)))
			fixes = append(fixes, p.mismatchFix(s, vol, func(b []byte) bool { h, _, _ := p.askServer(ctx, s, vol, b); return h }))
			continue
		}
		// 2. The recorded fingerprint.
		if book == nil {
			unknowns = append(unknowns, fmt.Sprintf("%s: unknown whether it holds the current %s (no fingerprint store: %v); the login check after start settles it", vol, s.Name, bookErr))
			continue
		}
		switch v, e := book.Compare(engineID, vol, pw); v {
		case volpass.Match:
			oks = append(oks, fmt.Sprintf("%s holds the current %s (fingerprint recorded %s: %s)", vol, s.Name, e.At.Local().Format("2006-01-02 15:04"), e.How))
		case volpass.Mismatch:
			fails = append(fails, fmt.Sprintf("%s holds another password than the current %s (fingerprint recorded %s: %s): %s will reject it (\"password authentication failed\")", vol, s.Name, e.At.Local().Format("2006-01-02 15:04"), e.How, who(s)))
			fixes = append(fixes, p.mismatchFix(s, vol, func(b []byte) bool { m, _ := book.Compare(engineID, vol, b); return m == volpass.Match }))
		default:
			unknowns = append(unknowns, fmt.Sprintf("%s: unknown whether it holds the current %s (made before cdb-setup recorded it, or on another install); the login check after start settles it", vol, s.Name))
		}
	}
	switch {
	case len(fails) > 0:
		return fail(strings.Join(append(fails, unknowns...), "; "), strings.Join(fixes, "; and "))
	case len(unknowns) > 0:
		return warn(strings.Join(append(unknowns, oks...), "; "), "nothing to do before the start: `up` logs in with the current password once the service runs (`cdb-setup doctor` does too while the stack runs)")
	}
	return ok(strings.Join(oks, "; "))
}

// FreshVolume is a volume that did not exist at preflight: the start
// initialises it with the password read then. up records it once the
// volume exists (RecordFresh).
type FreshVolume struct {
	Secret   SecretFile
	Volume   string
	EngineID string
	password []byte
}

// RecordFresh records a fingerprint for every volume the preflight saw
// missing and that exists now: `up` initialised it with the password the
// secret file held at preflight. It returns the volumes recorded.
func (p *Preflight) RecordFresh(ctx context.Context) ([]string, error) {
	if len(p.fresh) == 0 || p.StateDir == "" || p.Engine.Client == nil {
		return nil, nil
	}
	book, err := volpass.Open(p.StateDir)
	if err != nil {
		return nil, err
	}
	var done []string
	for _, f := range p.fresh {
		if _, err := p.Engine.Client.VolumeInspect(ctx, f.Volume); err != nil {
			continue
		}
		if err := book.Record(volpass.Entry{EngineID: f.EngineID, Volume: f.Volume, Secret: f.Secret.Name, How: "initialised by cdb-setup up"}, f.password); err != nil {
			return done, err
		}
		done = append(done, f.Volume)
	}
	return done, nil
}

func who(s SecretFile) string {
	if len(s.Services) > 0 {
		return strings.Join(s.Services, ", ")
	}
	return "its service"
}

// askServer checks the password against a running postgres that keeps it
// in vol: the role's SCRAM verifier read on the container's local socket.
// known is false when no such server runs or it cannot be asked.
func (p *Preflight) askServer(ctx context.Context, s SecretFile, vol string, pw []byte) (held bool, how string, known bool) {
	pg, ok := p.postgresFor(ctx, s, vol)
	if !ok {
		return p.askByLogin(ctx, s, vol, pw)
	}
	held, err := pg.Holds(ctx, pw)
	if err != nil {
		return false, "", false
	}
	return held, "checked against the role's SCRAM verifier in the running postgres", true
}

// askByLogin settles a volume kept by a service with an HTTP login check
// (Grafana) by logging in to it while it runs with the volume mounted.
func (p *Preflight) askByLogin(ctx context.Context, s SecretFile, vol string, pw []byte) (bool, string, bool) {
	for _, c := range p.Logins {
		if c.Kind != "http-basic-auth" || c.Secret != s.Name || p.Project == "" {
			continue
		}
		list, err := p.Engine.Client.ContainerList(ctx, container.ListOptions{Filters: filters.NewArgs(
			filters.Arg("label", stack.LabelProject+"="+p.Project), filters.Arg("label", stack.LabelService+"="+c.Service),
			filters.Arg("volume", vol), filters.Arg("status", "running"))})
		if err != nil || len(list) == 0 {
			return false, "", false
		}
		ok, err := stack.Accepts(ctx, c, string(pw))
		if err != nil {
			return false, "", false
		}
		return ok, "checked by logging in to the running " + c.Service, true
	}
	return false, "", false
}

// postgresFor finds the running container of the postgres-login check that
// uses secret s, if it mounts vol.
func (p *Preflight) postgresFor(ctx context.Context, s SecretFile, vol string) (rekey.Postgres, bool) {
	var login *manifest.Check
	for i, c := range p.Logins {
		if c.Kind == "postgres-login" && c.Secret == s.Name {
			login = &p.Logins[i]
			break
		}
	}
	if login == nil || p.Project == "" {
		return rekey.Postgres{}, false
	}
	list, err := p.Engine.Client.ContainerList(ctx, container.ListOptions{Filters: filters.NewArgs(
		filters.Arg("label", stack.LabelProject+"="+p.Project),
		filters.Arg("label", stack.LabelService+"="+login.Service),
		filters.Arg("volume", vol),
		filters.Arg("status", "running"))})
	if err != nil || len(list) == 0 {
		return rekey.Postgres{}, false
	}
	return rekey.Postgres{API: p.Engine.Client, Container: list[0].ID, User: login.User, Database: login.Database}, true
}

// mismatchFix names, in order: a backup of the secret that holds the
// volume's password (restoring it passes), re-keying in place, and last
// deleting the volume with its data.
func (p *Preflight) mismatchFix(s SecretFile, vol string, holds func([]byte) bool) string {
	var parts []string
	if b := matchingBackup(s, holds); b != "" {
		parts = append(parts, fmt.Sprintf("the backup %s holds the password %s keeps: put it back with `%s`, then `%s`", b, vol, copyCommand(b, s.Path), p.upCommand()))
	}
	parts = append(parts, "if you know the old password, put it in "+s.Path+", start the stack and change it inside the service: `cdb-setup secrets rotate "+s.Name+"`")
	parts = append(parts, fmt.Sprintf("last resort, deletes %s and all its data (asks first): `%s --recreate-volume %s`", vol, p.upCommand(), vol))
	return strings.Join(parts, "; or ")
}

// matchingBackup returns the newest backup of s (.backup/<NAME>.<time>, as
// rotate and init --force leave them) whose value the volume holds.
func matchingBackup(s SecretFile, holds func([]byte) bool) string {
	bs, _ := filepath.Glob(filepath.Join(filepath.Dir(s.Path), ".backup", s.Name+".*"))
	sort.Sort(sort.Reverse(sort.StringSlice(bs)))
	for i, b := range bs {
		if i == 10 { // each check may cost a SCRAM derivation
			break
		}
		if v, err := secrets.ReadSecret(b); err == nil && len(v) > 0 && holds(v) {
			return b
		}
	}
	return ""
}

// copyCommand is the shell command that copies a backup over the secret
// file, as the user's shell spells it.
func copyCommand(from, to string) string {
	if runtime.GOOS == "windows" {
		return fmt.Sprintf("Copy-Item -LiteralPath '%s' -Destination '%s'", strings.ReplaceAll(from, "'", "''"), strings.ReplaceAll(to, "'", "''"))
	}
	q := func(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }
	return "cp " + q(from) + " " + q(to)
}

func (p *Preflight) engineID(ctx context.Context) (string, error) {
	if p.Engine.ID != "" {
		return p.Engine.ID, nil
	}
	info, err := p.Engine.Client.Info(ctx)
	if err != nil {
		return "", err
	}
	if info.ID == "" {
		return "", errors.New("the Engine reported no ID")
	}
	p.Engine.ID = info.ID
	return info.ID, nil
}

// volumeName resolves a compose volume key to the Engine's name: the
// compose model's name when known (it honours `name:`), else
// <project>_<key> as compose names it.
func (p *Preflight) volumeName(key string) string {
	if n, ok := p.Volumes[key]; ok && n != "" {
		return n
	}
	if p.Project == "" {
		return key
	}
	return p.Project + "_" + key
}

func (p *Preflight) upCommand() string {
	if p.Up != "" {
		return p.Up
	}
	return p.Rerun
}

// RecordLogin records that the volume keeping secret name holds the
// secret file's current password: a login with it just succeeded. It
// settles an "unknown" volume (made before cdb-setup).
func (p *Preflight) RecordLogin(ctx context.Context, name string) error {
	if p.StateDir == "" || p.Engine.Client == nil {
		return nil
	}
	for _, s := range p.Secrets {
		if s.Name != name || s.Policy.Volume == "" {
			continue
		}
		vol := p.volumeName(s.Policy.Volume)
		if _, err := p.Engine.Client.VolumeInspect(ctx, vol); err != nil {
			return nil
		}
		engineID, err := p.engineID(ctx)
		if err != nil {
			return err
		}
		pw, err := secrets.ReadSecret(s.Path)
		if err != nil {
			return err
		}
		book, err := volpass.Open(p.StateDir)
		if err != nil {
			return err
		}
		return book.Record(volpass.Entry{EngineID: engineID, Volume: vol, Secret: name, How: "a login with it succeeded after start"}, pw)
	}
	return nil
}
