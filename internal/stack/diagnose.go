package stack

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/volume"
	"github.com/docker/docker/pkg/stdcopy"

	"github.com/claire-de-binare/cdb-setup/internal/lazyre"
	"github.com/claire-de-binare/cdb-setup/internal/platform"
)

// Recognised causes (machine-readable, in --json).
const (
	CauseStaleVolume      = "stale-volume"
	CausePasswordMismatch = "password-mismatch"
	CauseSecretMissing    = "secret-missing"
	CauseSecretIsDir      = "secret-is-directory"
	CauseSecretUnreadable = "secret-unreadable"
	CausePortConflict     = "port-conflict"
	CauseImageMissing     = "image-missing"
	CauseGrafanaBoth      = "password-and-file"
	CauseOOM              = "out-of-memory"
	CauseMountMissing     = "mount-missing"
	// CauseTLSKeyRefused: postgres refuses its server key (owner or mode).
	CauseTLSKeyRefused = "tls-key-refused"
	// CauseTLSCertificate: a server cannot load its certificate or key.
	CauseTLSCertificate = "tls-certificate"
)

// DiagnoseAPI is the Engine access diagnosis needs.
type DiagnoseAPI interface {
	ContainerInspect(ctx context.Context, containerID string) (container.InspectResponse, error)
	ContainerLogs(ctx context.Context, containerID string, options container.LogsOptions) (io.ReadCloser, error)
	VolumeInspect(ctx context.Context, volumeID string) (volume.Volume, error)
}

// SecretMount is one secret file a service mounts.
type SecretMount struct {
	Name   string // file name in the secrets folder (POSTGRES_PASSWORD)
	Path   string // the host file
	Target string // inside the container (/run/secrets/postgres_password)
	// Volume is the Engine volume that keeps this password once initialised
	// (manifest policy Volume:, resolved to the project's volume name).
	Volume string
}

// ServiceFacts is what the compose model says about a service.
type ServiceFacts struct {
	Secrets  []SecretMount
	Image    string
	HasBuild bool
	// Ports are published host addresses, "127.0.0.1:5432".
	Ports []string
}

// DiagnoseInput is everything diagnosis may look at.
type DiagnoseInput struct {
	API           DiagnoseAPI
	Project       string
	ComposeOutput string
	Services      map[string]ServiceFacts
	SecretsDir    string
	// ComposeDir is where compose reads .env from.
	ComposeDir string
	// Rerun is the command that runs up again with the user's flags.
	Rerun string
	// Redact removes secret values from text before it is shown.
	Redact func(string) string
}

// Diagnosis explains one failed service.
type Diagnosis struct {
	Service     string   `json:"service"`
	Reason      string   `json:"reason"`
	Detail      string   `json:"detail"`
	ProbeExit   *int     `json:"probe_exit_code,omitempty"`
	ProbeOutput string   `json:"probe_output,omitempty"`
	Logs        []string `json:"logs,omitempty"`
	Cause       string   `json:"cause,omitempty"`
	Explanation string   `json:"explanation,omitempty"`
	Fix         string   `json:"fix"`
}

// LogLines is how many log lines a diagnosis shows.
const LogLines = 50

// Diagnose gathers the evidence for a failed service and recognises the
// cause where it can: the probe's last exit code and output, the last 50 log
// lines, and the fix as an exact command.
func Diagnose(ctx context.Context, in DiagnoseInput, s Service) Diagnosis {
	redact := in.Redact
	if redact == nil {
		redact = func(s string) string { return s }
	}
	d := Diagnosis{Service: s.Name, Reason: s.Reason, Detail: s.Detail}
	facts := in.Services[s.Name]
	var user string
	if s.ContainerID != "" && in.API != nil {
		ictx, cancel := context.WithTimeout(ctx, 15*time.Second)
		defer cancel()
		if ci, err := in.API.ContainerInspect(ictx, s.ContainerID); err == nil {
			sn := snapshotOf(ci)
			if sn.HasProbe {
				code := sn.LastProbeExit
				d.ProbeExit = &code
				d.ProbeOutput = redact(Shorten(sn.LastProbe, 400))
			}
			if ci.Config != nil {
				user = ci.Config.User
			}
			if sn.OOMKilled {
				d.Cause = CauseOOM
			}
		}
		d.Logs = tailLogs(ictx, in.API, s.ContainerID, LogLines, redact)
	}
	text := strings.Join(d.Logs, "\n") + "\n" + d.ProbeOutput
	if s.ContainerID == "" || s.Reason == ReasonNotCreated {
		text += "\n" + in.ComposeOutput
	}
	recognise(ctx, in, s, facts, user, text, &d)
	if d.Fix == "" {
		d.Fix = genericFix(s)
	}
	return d
}

var (
	reBindMissing = lazyre.New(`bind source path does not exist: (\S+)`)
	reNotDir      = lazyre.New(`(?i)(not a directory|are you trying to mount a directory onto a file)`)
	rePort        = lazyre.New(`(?i)(?:Bind for |listen tcp4? |bind: )?([0-9.:\[\]]*:(\d+))(?: failed)?: (?:port is already allocated|address already in use)|port is already allocated|address already in use`)
	reImage       = lazyre.New(`(?i)(pull access denied|no such image|manifest unknown|failed to resolve reference|repository does not exist|error pulling image|lookup registry[^ ]*)`)
	rePassword    = lazyre.New(`(?i)(password authentication failed|WRONGPASS|invalid username or password|NOAUTH|Access denied for user)`)
	reBoth        = lazyre.New(`Both (\S+) and (\S+__FILE|\S+_FILE) are set`)
	reTLSKey      = lazyre.New(`(?m)^.*(private key file "[^"]*" (must be owned by the database user or root|has group or world access)|could not access private key file "[^"]*": Permission denied).*$`)
	reTLSLoad     = lazyre.New(`(?m)^.*(could not load server certificate file|could not load private key file|could not load root certificate file|Failed to configure TLS|Failed to load certificate|Failed to load private key|Failed to load CA).*$`)
	rePerm        = lazyre.New(`(?i)(\S*/run/secrets/\S*|secret\S*)[^\n]*permission denied|permission denied[^\n]*(/run/secrets/\S+)`)
)

func recognise(ctx context.Context, in DiagnoseInput, s Service, facts ServiceFacts, user, text string, d *Diagnosis) {
	switch {
	case reTLSKey().MatchString(text):
		// The server's own log line is the evidence.
		line := strings.TrimSpace(reTLSKey().FindString(text))
		d.Cause = CauseTLSKeyRefused
		d.Explanation = fmt.Sprintf("%s refuses its TLS key: %q. PostgreSQL only reads a key owned by its own user (or root) and private; a bind-mounted key keeps the host's owner and mode, so it is refused on a native Linux engine whatever its mode.", s.Name, line)
		d.Fix = fmt.Sprintf("start it through cdb-setup, whose TLS overlay hands postgres a copy it owns (0600): %s", in.Rerun)
		if !strings.Contains(in.Rerun, "--overlay tls") {
			d.Fix = fmt.Sprintf("start it with cdb-setup's TLS overlay: %s --overlay tls", in.Rerun)
		}
	case reTLSLoad().MatchString(text):
		line := strings.TrimSpace(reTLSLoad().FindString(text))
		d.Cause = CauseTLSCertificate
		d.Explanation = fmt.Sprintf("%s cannot load its TLS certificate or key: %q.", s.Name, line)
		d.Fix = fmt.Sprintf("cdb-setup tls check   # names the missing or broken file; cdb-setup tls rotate issues a new set; then: %s", in.Rerun)
	case reBindMissing().MatchString(text):
		p := reBindMissing().FindStringSubmatch(text)[1]
		p = strings.TrimRight(p, `".,;`)
		d.Explanation = fmt.Sprintf("%s mounts %s, which does not exist: Docker refuses to create the container.", s.Name, p)
		if in.SecretsDir != "" && filepath.Dir(filepath.Clean(p)) == filepath.Clean(in.SecretsDir) {
			d.Cause = CauseSecretMissing
			d.Fix = fmt.Sprintf("cdb-setup secrets init   # creates every missing secret file, then: %s", in.Rerun)
		} else {
			d.Cause = CauseMountMissing
			d.Fix = fmt.Sprintf("create %s (a file or folder the compose file mounts; is --repo the full CDB clone?), then: %s", p, in.Rerun)
		}
	case reNotDir().MatchString(text) || anySecretIsDir(facts):
		p := firstSecretDir(facts)
		d.Cause = CauseSecretIsDir
		d.Explanation = fmt.Sprintf("a secret path is a folder, not a file (older Docker Desktop created %s as a folder when the file was missing).", orUnknown(p))
		d.Fix = fmt.Sprintf("%s && cdb-setup secrets init && %s", removeDirCmd(p), in.Rerun)
	case reBoth().MatchString(text):
		m := reBoth().FindStringSubmatch(text)
		d.Cause = CauseGrafanaBoth
		d.Explanation = fmt.Sprintf("%s refuses to start because both %s and %s are set. Compose got %s from a compose file or %s; cdb-setup never exports secret values.", s.Name, m[1], m[2], m[1], filepath.Join(in.ComposeDir, ".env"))
		d.Fix = fmt.Sprintf("remove %s (and any GRAFANA_PASSWORD it comes from) from %s and from the compose files' environment (keep only %s), then: %s", m[1], filepath.Join(in.ComposeDir, ".env"), m[2], in.Rerun)
	case rePerm().MatchString(text) || s.Reason == ReasonRestartLoop && strings.Contains(strings.ToLower(text), "permission denied"):
		m := secretFor(facts, text)
		d.Cause = CauseSecretUnreadable
		who := "the container's user"
		if user != "" {
			who = "uid " + user
		}
		if m.Name == "" {
			d.Explanation = fmt.Sprintf("%s cannot read a mounted secret as %s.", s.Name, who)
			d.Fix = fmt.Sprintf("make the secret files readable for the containers: %s, then: %s", chmodFix(in.SecretsDir, ""), in.Rerun)
			return
		}
		d.Explanation = fmt.Sprintf("%s runs as %s and cannot read %s (%s): on a native Linux engine the bind-mounted file keeps its host owner and mode, so a 0600 file is unreadable for every other uid.", s.Name, who, m.Target, m.Path)
		d.Fix = fmt.Sprintf("%s   # the 0700 folder still keeps other host users out; then: %s", chmodFix(in.SecretsDir, m.Path), in.Rerun)
	case rePassword().MatchString(text):
		recognisePassword(ctx, in, s, facts, d)
	case rePort().MatchString(text):
		m := rePort().FindStringSubmatch(text)
		addr := m[1]
		if addr == "" && len(facts.Ports) > 0 {
			addr = strings.Join(facts.Ports, ", ")
		}
		d.Cause = CausePortConflict
		d.Explanation = fmt.Sprintf("%s publishes %s, which something else already holds.", s.Name, orUnknown(addr))
		port := portOf(addr)
		n, _ := strconv.Atoi(port)
		d.Fix = fmt.Sprintf("stop what holds port %s — a container: `docker ps --filter publish=%s`; a process: %s — then: %s", port, port, platform.StopPortHolderHint(runtime.GOOS, n, "", ""), in.Rerun)
	case reImage().MatchString(text):
		d.Cause = CauseImageMissing
		d.Explanation = fmt.Sprintf("the image %s is not on this machine and could not be pulled.", orUnknown(facts.Image))
		if facts.HasBuild {
			d.Fix = in.Rerun + " --build"
		} else {
			d.Fix = fmt.Sprintf("docker pull %s   # on a network that reaches the registry; then: %s", facts.Image, in.Rerun)
		}
	case d.Cause == CauseOOM || s.Reason == ReasonOOM:
		d.Cause = CauseOOM
		d.Explanation = s.Name + " was killed because it ran out of memory."
		d.Fix = "give Docker more memory (Docker Desktop: Settings → Resources) or raise the service's memory limit, then: " + in.Rerun
	}
}

func recognisePassword(ctx context.Context, in DiagnoseInput, s Service, facts ServiceFacts, d *Diagnosis) {
	d.Cause = CausePasswordMismatch
	d.Explanation = fmt.Sprintf("%s rejects the password from the secret file.", s.Name)
	d.Fix = "cdb-setup secrets check   # CRLF, BOM or whitespace in a secret file change the password; then: " + in.Rerun
	for _, m := range facts.Secrets {
		if m.Volume == "" {
			continue
		}
		if _, err := os.Stat(m.Path); err != nil || in.API == nil {
			continue
		}
		vctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		_, err := in.API.VolumeInspect(vctx, m.Volume)
		cancel()
		if err != nil {
			continue
		}
		d.Cause = CauseStaleVolume
		d.Explanation = StaleVolumeExplanation(m.Name, m.Volume)
		d.Fix = StaleVolumeFix(m.Name, m.Path, m.Volume, in.Rerun)
		return
	}
}

// StaleVolumeExplanation says why a service that keeps its password in a
// volume rejects the file's. It claims no time: a volume's CreatedAt is no
// creation time on every Engine (issue 12, observation 1).
func StaleVolumeExplanation(name, volume string) string {
	return fmt.Sprintf("the volume %s keeps the password the service was initialised with (or last re-keyed to), and it is not the one in %s now.", volume, name)
}

// StaleVolumeFix is the exact fix for a volume that keeps another password
// than the secret file at path, data-keeping options first: put back the
// password the volume holds (the newest backup, or the keychain mirror),
// and only last delete the volume (up asks first). up is the command that
// starts the stack again with the user's flags.
func StaleVolumeFix(name, path, volume, up string) string {
	var fix string
	// `secrets rotate` and `init --force` keep earlier values in .backup/<NAME>.<UTC>.
	if bs, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".backup", name+".*")); len(bs) > 0 {
		sort.Strings(bs)
		fix = fmt.Sprintf("put back the password %s holds: an earlier %s is backed up in %s (copy it over %s), or run `cdb-setup keychain pull --force` if you mirrored the secrets; then `%s`",
			volume, name, bs[len(bs)-1], path, up)
	} else {
		fix = fmt.Sprintf("put back the password %s holds: `cdb-setup keychain pull --force` if you mirrored the secrets (backs the current file up first), then `%s`", volume, up)
	}
	return fix + fmt.Sprintf("; or `cdb-setup secrets recover`, which finds that password (keychain mirror, backup) or changes it inside the service, keeping the data; last resort, deletes %s and all its data (asks first): `%s --recreate-volume %s`", volume, up, volume)
}

func genericFix(s Service) string {
	id := s.ContainerID
	if len(id) > 12 {
		id = id[:12]
	}
	switch s.Reason {
	case ReasonTimeout:
		return fmt.Sprintf("look at `docker logs %s`; if it is only slow, run again with a longer --timeout", orUnknown(id))
	case ReasonNotCreated:
		return "read the compose output above; `docker compose config` shows the merged files"
	case ReasonUnhealthy:
		return fmt.Sprintf("docker logs %s; docker inspect --format '{{json .State.Health}}' %s", id, id)
	default:
		return fmt.Sprintf("docker logs %s", orUnknown(id))
	}
}

func tailLogs(ctx context.Context, api DiagnoseAPI, id string, n int, redact func(string) string) []string {
	rc, err := api.ContainerLogs(ctx, id, container.LogsOptions{ShowStdout: true, ShowStderr: true, Tail: fmt.Sprint(n)})
	if err != nil {
		return nil
	}
	defer rc.Close()
	var buf bytes.Buffer
	// Containers without a TTY multiplex stdout and stderr; one writer for
	// both keeps their order.
	if _, err := stdcopy.StdCopy(&buf, &buf, io.LimitReader(rc, 1<<20)); err != nil && buf.Len() == 0 {
		return nil
	}
	var lines []string
	sc := bufio.NewScanner(&buf)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		lines = append(lines, redact(Shorten(sc.Text(), 300)))
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return lines
}

// Shorten cuts s to n runes on one line.
func Shorten(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

func secretFor(facts ServiceFacts, text string) SecretMount {
	for _, m := range facts.Secrets {
		if strings.Contains(text, m.Target) || strings.Contains(text, m.Name) {
			return m
		}
	}
	for _, m := range facts.Secrets {
		if f, err := os.Open(m.Path); err == nil {
			f.Close()
			if st, err := os.Stat(m.Path); err == nil && st.Mode().Perm()&0o004 == 0 {
				return m
			}
		}
	}
	return SecretMount{}
}

func anySecretIsDir(f ServiceFacts) bool { return firstSecretDir(f) != "" }

func firstSecretDir(f ServiceFacts) string {
	for _, m := range f.Secrets {
		if isDir(m.Path) {
			return m.Path
		}
	}
	return ""
}

func isDir(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}

func removeDirCmd(p string) string {
	if runtime.GOOS == "windows" {
		// PowerShell single quotes: no escapes, a quote is doubled.
		return "Remove-Item -Recurse '" + strings.ReplaceAll(orUnknown(p), "'", "''") + "'"
	}
	return fmt.Sprintf("rmdir %q", orUnknown(p))
}

func chmodFix(dir, file string) string {
	if runtime.GOOS == "windows" {
		return "cdb-setup secrets fix"
	}
	if file == "" {
		return fmt.Sprintf("chmod 0700 %q && chmod 0644 %q/*", dir, dir)
	}
	return fmt.Sprintf("chmod 0700 %q && chmod 0644 %q", dir, file)
}

func portOf(addr string) string {
	if i := strings.LastIndex(addr, ":"); i >= 0 {
		return addr[i+1:]
	}
	return addr
}

func orUnknown(s string) string {
	if s == "" {
		return "(unknown)"
	}
	return s
}
