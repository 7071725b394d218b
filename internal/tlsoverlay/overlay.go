// Package tlsoverlay writes the compose overlay cdb-setup adds after the
// repo's TLS overlay (CDB's tls.yml) when `up --overlay tls` runs. It is generated
// from the merged compose model and kept next to cdb-setup's state, never in
// the user's repo. What it fixes in tls.yml, and why (docs/tls.md):
//
//   - certificate mounts point three folders above the clone: every bind
//     mount from the manifest's TLS folder is remapped to <secrets>/tls
//     (Compose merges volumes by target path). A folder mount becomes a
//     tmpfs with only the files that service needs bound into it, so the
//     CA key and other servers' keys never reach a container;
//   - passwords from the environment (`${POSTGRES_PASSWORD}`,
//     `$${REDIS_PASSWORD}`), which cdb-setup never exports to Compose: the
//     _FILE variable is restored and `$VAR` in a command or healthcheck
//     reads the mounted secret file instead;
//   - Postgres SSL set by an init script that runs only on an empty volume:
//     `postgres -c ssl=on -c ssl_cert_file=… -c ssl_key_file=…` applies on
//     every start, also on an existing database; the mount of the missing
//     init script is removed (Docker would otherwise create a folder in its
//     place, in the repo, and the entrypoint would fail running it);
//   - Postgres refuses a key not owned by its user (or root) and private: a
//     tiny wrapper copies it at start into a tmpfs, owned by postgres, 0600.
//     Compose's secret uid/gid/mode would be the declarative way, but
//     Compose ignores them for file secrets without Swarm ("secrets `uid`,
//     `gid` and `mode` are not supported") — tested on Engine 20.10.
//
// Every service it touches gets a label with a fingerprint of the
// certificate files it mounts: after `tls rotate`, Compose recreates
// exactly those services and leaves the others running.
package tlsoverlay

import (
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"
	"go.yaml.in/yaml/v3"

	"github.com/claire-de-binare/cdb-setup/internal/composefile"
	"github.com/claire-de-binare/cdb-setup/internal/tlscert"
)

// In-container paths the overlay uses.
const (
	// MountDir holds the server's certificate, key and the CA, read-only.
	MountDir = "/run/cdb-setup/tls"
	// KeyDir is the tmpfs the wrapper copies Postgres' key into.
	KeyDir = "/run/cdb-setup/pgkey"
	// Label carries the certificate fingerprint of a service.
	Label = "cdb-setup.tls-fingerprint"
	// FileName is the overlay's file name in its folder.
	FileName = "tls-overlay.yml"
)

// Options are the inputs of Build.
type Options struct {
	// Project is the merged model of the repo's files (tls.yml included).
	Project *types.Project
	// Base is the model without the TLS overlay's files: a missing init
	// script is dropped only when the TLS overlay added it (a missing
	// schema.sql of the base stays, for the preflight to report).
	Base *types.Project
	// RepoTLSDir is the absolute folder the repo's overlay mounts
	// certificates from (the manifest's tls.dir).
	RepoTLSDir string
	// CertDir is <secrets>/tls.
	CertDir string
	// OutDir is where the overlay and its helper files are written.
	OutDir string
	// Postgres and Redis are the TLS servers' service names ("" if none).
	Postgres, Redis string
	// Secrets are the secret file names (REDIS_PASSWORD…): a reference to
	// one of them as a variable is rewritten to read the mounted file.
	Secrets []string
}

// Overlay is what Build made.
type Overlay struct {
	Path string // the overlay file, absolute
	YAML []byte
	// Fingerprints: service → fingerprint of its certificate files.
	Fingerprints map[string]string
	// Fixes says in one line each what the overlay changed, for --dry-run.
	Fixes []string
}

// Leaves are the server certificates the stack needs: one per TLS server,
// valid for its service name and container_name.
func Leaves(p *types.Project, postgres, redis string) []tlscert.Leaf {
	var out []tlscert.Leaf
	for _, s := range []struct{ leaf, svc string }{{"postgres", postgres}, {"redis", redis}} {
		if s.svc == "" {
			continue
		}
		dns := []string{s.svc}
		if svc, ok := p.Services[s.svc]; ok && svc.ContainerName != "" && svc.ContainerName != s.svc {
			dns = append(dns, svc.ContainerName)
		}
		out = append(out, tlscert.Leaf{Name: s.leaf, DNS: dns})
	}
	return out
}

// filesFor lists the certificate files a service may see: every
// certificate, the client key, and its own server key.
func filesFor(o Options, svc string) []string {
	files := []string{tlscert.CAFile, "postgres.crt", "redis.crt", tlscert.ClientName + ".crt", tlscert.ClientName + ".key"}
	switch svc {
	case o.Postgres:
		files = append(files, "postgres.key")
	case o.Redis:
		files = append(files, "redis.key")
	}
	return files
}

// Build computes the overlay and writes it (and the no-op init script) to
// OutDir. The result depends only on its inputs and the certificate files,
// so writing it again changes nothing.
func Build(o Options) (*Overlay, error) {
	if o.Project == nil {
		return nil, errors.New("no compose model")
	}
	ov := &Overlay{Path: filepath.Join(o.OutDir, FileName), Fingerprints: map[string]string{}}
	services := map[string]map[string]any{}
	names := make([]string, 0, len(o.Project.Services))
	for n := range o.Project.Services {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		svc := o.Project.Services[name]
		out := map[string]any{}
		var vols []map[string]any
		var mounted []string
		var keep []types.ServiceVolumeConfig // the mounts the overlay leaves as they are
		dropped := false
		for _, v := range svc.Volumes {
			if v.Type != types.VolumeTypeBind || v.Source == "" {
				keep = append(keep, v)
				continue
			}
			src := filepath.Clean(v.Source)
			rel, err := filepath.Rel(filepath.Clean(o.RepoTLSDir), src)
			switch {
			case err == nil && rel == ".":
				// A folder mount: a tmpfs at its target with only this
				// service's files bound in.
				vols = append(vols, map[string]any{"type": "tmpfs", "target": v.Target})
				for _, f := range filesFor(o, name) {
					vols = append(vols, bind(filepath.Join(o.CertDir, f), path.Join(v.Target, f)))
					mounted = append(mounted, f)
				}
				ov.Fixes = append(ov.Fixes, fmt.Sprintf("%s: %s now mounts %s (only the files it needs, never the CA key)", name, v.Target, o.CertDir))
			case err == nil && !strings.HasPrefix(rel, ".."):
				f := filepath.ToSlash(rel)
				vols = append(vols, bind(filepath.Join(o.CertDir, rel), v.Target))
				mounted = append(mounted, f)
				ov.Fixes = append(ov.Fixes, fmt.Sprintf("%s: %s now mounts %s", name, v.Target, filepath.Join(o.CertDir, rel)))
			case strings.HasPrefix(v.Target, "/docker-entrypoint-initdb.d/") && !exists(src) && !mountedIn(o.Base, name, v.Target):
				// Docker would make a folder there (in the repo) and the
				// entrypoint would fail running it: the mount is dropped.
				dropped = true
				ov.Fixes = append(ov.Fixes, fmt.Sprintf("%s: %s does not exist; its mount at %s is removed (SSL is on postgres' command line instead)", name, src, v.Target))
			default:
				keep = append(keep, v)
			}
		}
		if name == o.Postgres {
			for _, f := range []string{"postgres.crt", "postgres.key", tlscert.CAFile} {
				vols = append(vols, bind(filepath.Join(o.CertDir, f), path.Join(MountDir, f)))
				mounted = append(mounted, f)
			}
			script := fmt.Sprintf(`set -e; install -d -o postgres -g postgres -m 0700 %[1]s; install -o postgres -g postgres -m 0600 %[2]s/postgres.key %[1]s/server.key; exec docker-entrypoint.sh "$@"`, KeyDir, MountDir)
			out["entrypoint"] = []string{"sh", "-c", script, "cdb-setup-tls"}
			out["command"] = []string{"postgres", "-c", "ssl=on",
				"-c", "ssl_cert_file=" + MountDir + "/postgres.crt",
				"-c", "ssl_key_file=" + KeyDir + "/server.key",
				"-c", "ssl_ca_file=" + MountDir + "/" + tlscert.CAFile}
			out["tmpfs"] = []string{KeyDir}
			ov.Fixes = append(ov.Fixes, name+": ssl=on and the certificate on postgres' command line (every start, existing volumes too); the key copied at start into a tmpfs, owned by postgres, 0600")
		}
		secretTargets := secretTargets(o.Project, svc)
		if cmd, ok := rewriteCommand(svc.Command, secretTargets, o.Secrets); ok {
			out["command"] = cmd
			ov.Fixes = append(ov.Fixes, name+": the command reads the password from its secret file, not from a variable compose never gets")
		}
		if svc.HealthCheck != nil {
			if test, ok := rewriteTest(svc.HealthCheck.Test, secretTargets, o.Secrets); ok {
				out["healthcheck"] = map[string]any{"test": test}
				ov.Fixes = append(ov.Fixes, name+": the healthcheck reads the password from its secret file")
			}
		}
		env := map[string]any{}
		for _, s := range o.Secrets {
			val, set := svc.Environment[s]
			target, mountedSecret := secretTargets[s]
			if !set || !mountedSecret || (val != nil && *val != "") {
				continue
			}
			// Empty: the entrypoint then reads NAME_FILE (both set is an error).
			env[s] = ""
			env[s+"_FILE"] = target
			ov.Fixes = append(ov.Fixes, fmt.Sprintf("%s: %s comes from %s (%s_FILE), not from compose's environment", name, s, target, s))
		}
		if len(env) > 0 {
			out["environment"] = env
		}
		switch {
		case dropped:
			// Compose merges volumes by target and cannot remove one, so
			// the whole list is given, tagged !override (Compose 2.24+).
			full, err := overrideVolumes(keep, vols)
			if err != nil {
				return nil, err
			}
			out["volumes"] = full
		case len(vols) > 0:
			out["volumes"] = vols
		}
		if len(mounted) > 0 {
			sort.Strings(mounted)
			fp := tlscert.Fingerprint(o.CertDir, dedupe(mounted))
			ov.Fingerprints[name] = fp
			out["labels"] = map[string]string{Label: fp}
		}
		if len(out) > 0 {
			services[name] = out
		}
	}
	doc := map[string]any{"services": services}
	body, err := yaml.Marshal(escapeDollars(doc))
	if err != nil {
		return nil, err
	}
	ov.YAML = append([]byte("# Generated by cdb-setup for `up --overlay tls`; do not edit (it is rewritten at every run).\n# What it fixes in the repo's TLS overlay, and why: docs/tls.md.\n"), body...)
	if err := os.MkdirAll(o.OutDir, 0o755); err != nil {
		return nil, err
	}
	if err := writeIfChanged(ov.Path, ov.YAML, 0o644); err != nil {
		return nil, err
	}
	return ov, nil
}

func bind(src, target string) map[string]any {
	return map[string]any{"type": "bind", "source": src, "target": target, "read_only": true}
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

func dedupe(s []string) []string {
	var out []string
	for i, v := range s {
		if i == 0 || s[i-1] != v {
			out = append(out, v)
		}
	}
	return out
}

func writeIfChanged(p string, b []byte, mode os.FileMode) error {
	if old, err := os.ReadFile(p); err == nil && string(old) == string(b) {
		return nil
	}
	return os.WriteFile(p, b, mode)
}

// secretTargets maps a secret file name to where the service mounts it.
func secretTargets(p *types.Project, svc types.ServiceConfig) map[string]string {
	out := map[string]string{}
	for _, ref := range svc.Secrets {
		sc, ok := p.Secrets[ref.Source]
		if !ok || sc.File == "" {
			continue
		}
		out[filepath.Base(sc.File)] = composefile.SecretTarget(ref)
	}
	return out
}

// varRef finds $NAME and ${NAME} (the forms tls.yml uses after Compose
// turned $$ into $).
var varRef = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_.]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)`)

// replaceRefs replaces references to mounted secrets with "$(cat target)".
// It reports whether it replaced any.
func replaceRefs(s string, targets map[string]string, secrets []string) (string, bool) {
	known := map[string]bool{}
	for _, n := range secrets {
		known[n] = true
	}
	changed := false
	out := varRef.ReplaceAllStringFunc(s, func(m string) string {
		sub := varRef.FindStringSubmatch(m)
		name := sub[1] + sub[2]
		t, ok := targets[name]
		if !ok || !known[name] {
			return m
		}
		changed = true
		return `"$(cat ` + t + `)"`
	})
	return out, changed
}

// rewriteCommand turns a command that passes a secret as a variable (which
// no shell expands: Compose runs it directly) into `sh -c 'exec …'` reading
// the secret file.
func rewriteCommand(cmd types.ShellCommand, targets map[string]string, secrets []string) ([]string, bool) {
	if len(cmd) == 0 {
		return nil, false
	}
	if len(cmd) >= 3 && (cmd[0] == "sh" || cmd[0] == "/bin/sh") && cmd[1] == "-c" {
		s, ok := replaceRefs(cmd[2], targets, secrets)
		if !ok {
			return nil, false
		}
		return append([]string{cmd[0], "-c", s}, cmd[3:]...), true
	}
	parts := make([]string, len(cmd))
	changed := false
	for i, a := range cmd {
		// An argument holding a reference is used as written, the
		// reference replaced (CDB's are bare: $${REDIS_PASSWORD}); any
		// other argument is quoted.
		if r, ok := replaceRefs(a, targets, secrets); ok {
			parts[i], changed = r, true
			continue
		}
		parts[i] = shq(a)
	}
	if !changed {
		return nil, false
	}
	return []string{"sh", "-c", "exec " + strings.Join(parts, " ")}, true
}

// rewriteTest rewrites a healthcheck's shell text.
func rewriteTest(test types.HealthCheckTest, targets map[string]string, secrets []string) ([]string, bool) {
	t := append([]string{}, test...)
	switch {
	case len(t) == 2 && t[0] == "CMD-SHELL":
		s, ok := replaceRefs(t[1], targets, secrets)
		t[1] = s
		return t, ok
	case len(t) >= 4 && t[0] == "CMD" && (t[1] == "sh" || t[1] == "/bin/sh") && t[2] == "-c":
		s, ok := replaceRefs(t[3], targets, secrets)
		t[3] = s
		return t, ok
	}
	return nil, false
}

// shq quotes one argument for sh.
func shq(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-+,:@%=") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// escapeDollars doubles every $ so Compose's interpolation leaves the
// overlay's shell text as written.
func escapeDollars(v any) any {
	switch x := v.(type) {
	case string:
		return strings.ReplaceAll(x, "$", "$$")
	case []string:
		out := make([]string, len(x))
		for i, s := range x {
			out[i] = strings.ReplaceAll(s, "$", "$$")
		}
		return out
	case map[string]string:
		out := map[string]string{}
		for k, s := range x {
			out[k] = strings.ReplaceAll(s, "$", "$$")
		}
		return out
	case map[string]any:
		out := map[string]any{}
		for k, e := range x {
			out[k] = escapeDollars(e)
		}
		return out
	case []map[string]any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = escapeDollars(e)
		}
		return out
	case map[string]map[string]any:
		out := map[string]any{}
		for k, e := range x {
			out[k] = escapeDollars(e)
		}
		return out
	}
	return v
}

// overrideVolumes is the complete volume list of a service, tagged
// !override: the mounts kept as they are, then the overlay's.
func overrideVolumes(keep []types.ServiceVolumeConfig, ours []map[string]any) (*yaml.Node, error) {
	var list []any
	for _, v := range keep {
		b, err := yaml.Marshal(v)
		if err != nil {
			return nil, err
		}
		var m map[string]any
		if err := yaml.Unmarshal(b, &m); err != nil {
			return nil, err
		}
		list = append(list, escapeDollars(m))
	}
	for _, v := range ours {
		list = append(list, escapeDollars(v))
	}
	var n yaml.Node
	if err := n.Encode(list); err != nil {
		return nil, err
	}
	n.Tag = "!override"
	return &n, nil
}

// mountedIn reports whether the base model's service mounts target.
func mountedIn(p *types.Project, service, target string) bool {
	if p == nil {
		return false
	}
	for _, v := range p.Services[service].Volumes {
		if v.Target == target {
			return true
		}
	}
	return false
}
