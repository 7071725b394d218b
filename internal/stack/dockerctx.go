package stack

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/docker/docker/client"

	"github.com/claire-de-binare/cdb-setup/internal/platform"
)

// Endpoint is the Docker Engine the docker CLI would talk to right now.
type Endpoint struct {
	Host string `json:"host"`
	// Context is the docker context's name ("default" when none is set).
	Context string `json:"context"`
	// Source says how it was chosen: DOCKER_HOST, DOCKER_CONTEXT, the
	// config's currentContext, or the platform default.
	Source string `json:"source"`
	// TLSDir holds ca.pem, cert.pem, key.pem when the endpoint uses TLS.
	TLSDir        string `json:"tls_dir,omitempty"`
	SkipTLSVerify bool   `json:"skip_tls_verify,omitempty"`
}

// DockerConfigDir is DOCKER_CONFIG, else <home>/.docker.
func DockerConfigDir(env platform.Environment, home string) string {
	if d := env.Getenv("DOCKER_CONFIG"); d != "" {
		return d
	}
	return filepath.Join(home, ".docker")
}

// ResolveEndpoint finds the Engine exactly as the docker CLI does:
// DOCKER_HOST, then DOCKER_CONTEXT, then currentContext in config.json, each
// context resolved through contexts/meta/<sha256(name)>/meta.json. That is
// how Docker Desktop (desktop-linux), colima and OrbStack point the CLI at
// their sockets, so cdb-setup reaches the same Engine as `docker ps`.
func ResolveEndpoint(env platform.Environment, home, goos string) (Endpoint, error) {
	if h := env.Getenv("DOCKER_HOST"); h != "" {
		ep := Endpoint{Host: h, Context: "default", Source: "DOCKER_HOST"}
		if v := env.Getenv("DOCKER_TLS_VERIFY"); v != "" && v != "0" {
			ep.TLSDir = env.Getenv("DOCKER_CERT_PATH")
			if ep.TLSDir == "" {
				ep.TLSDir = DockerConfigDir(env, home)
			}
		}
		return ep, nil
	}
	cfgDir := DockerConfigDir(env, home)
	name, source := env.Getenv("DOCKER_CONTEXT"), "DOCKER_CONTEXT"
	if name == "" {
		b, err := os.ReadFile(filepath.Join(cfgDir, "config.json"))
		switch {
		case err == nil:
			var cfg struct {
				CurrentContext string `json:"currentContext"`
			}
			if jerr := json.Unmarshal(b, &cfg); jerr != nil {
				return Endpoint{}, fmt.Errorf("%s is not valid JSON (%v): fix or remove it", filepath.Join(cfgDir, "config.json"), jerr)
			}
			name, source = cfg.CurrentContext, "currentContext in "+filepath.Join(cfgDir, "config.json")
		case !errors.Is(err, fs.ErrNotExist):
			return Endpoint{}, fmt.Errorf("read Docker config: %w", err)
		}
	}
	if name == "" || name == "default" {
		return Endpoint{Host: defaultHost(goos), Context: "default", Source: "platform default"}, nil
	}
	sum := sha256.Sum256([]byte(name))
	id := hex.EncodeToString(sum[:])
	metaPath := filepath.Join(cfgDir, "contexts", "meta", id, "meta.json")
	b, err := os.ReadFile(metaPath)
	if err != nil {
		return Endpoint{}, fmt.Errorf("docker context %q (from %s) has no metadata at %s: run `docker context use default`, or `docker context ls` to pick one", name, source, metaPath)
	}
	var meta struct {
		Endpoints map[string]struct {
			Host          string `json:"Host"`
			SkipTLSVerify bool   `json:"SkipTLSVerify"`
		} `json:"Endpoints"`
	}
	if err := json.Unmarshal(b, &meta); err != nil {
		return Endpoint{}, fmt.Errorf("docker context %q: %s is not valid JSON: %v", name, metaPath, err)
	}
	d, ok := meta.Endpoints["docker"]
	if !ok || d.Host == "" {
		return Endpoint{}, fmt.Errorf("docker context %q has no docker endpoint: run `docker context inspect %s`", name, name)
	}
	ep := Endpoint{Host: d.Host, Context: name, Source: source, SkipTLSVerify: d.SkipTLSVerify}
	tlsDir := filepath.Join(cfgDir, "contexts", "tls", id, "docker")
	if _, err := os.Stat(filepath.Join(tlsDir, "ca.pem")); err == nil {
		ep.TLSDir = tlsDir
	}
	return ep, nil
}

func defaultHost(goos string) string {
	if goos == "windows" {
		return "npipe:////./pipe/docker_engine"
	}
	return "unix:///var/run/docker.sock"
}

// NewClient returns an Engine API client for ep. The API version is
// negotiated: Docker Engine 20.10 speaks only API 1.41.
func NewClient(ep Endpoint) (*client.Client, error) {
	if strings.HasPrefix(ep.Host, "ssh://") {
		return nil, fmt.Errorf("docker context %q uses %s: ssh endpoints are not supported by cdb-setup yet; set DOCKER_HOST to a unix, npipe or tcp address", ep.Context, ep.Host)
	}
	opts := []client.Opt{client.WithHost(ep.Host), client.WithAPIVersionNegotiation()}
	if ep.TLSDir != "" {
		// SkipTLSVerify contexts are rare (self-signed remote engines);
		// they still need the CA here.
		opts = append(opts, client.WithTLSClientConfig(
			filepath.Join(ep.TLSDir, "ca.pem"), filepath.Join(ep.TLSDir, "cert.pem"), filepath.Join(ep.TLSDir, "key.pem")))
	}
	return client.NewClientWithOpts(opts...)
}

// EngineInfo is what a ping and version call learned.
type EngineInfo struct {
	Endpoint      Endpoint `json:"endpoint"`
	ServerVersion string   `json:"server_version"`
	APIVersion    string   `json:"api_version"`
	OS            string   `json:"os"`
}

// ErrUnreachable marks "the Engine did not answer" (exit code 3).
var ErrUnreachable = errors.New("docker engine unreachable")

// Connect resolves the endpoint, pings the Engine and negotiates the API
// version. When the Engine does not answer, the error names the context and
// the fix for it (start Docker Desktop, colima start, ...).
func Connect(ctx context.Context, env platform.Environment, home, goos string) (*client.Client, EngineInfo, error) {
	ep, err := ResolveEndpoint(env, home, goos)
	if err != nil {
		return nil, EngineInfo{Endpoint: ep}, fmt.Errorf("%w: %v", ErrUnreachable, err)
	}
	cli, err := NewClient(ep)
	if err != nil {
		return nil, EngineInfo{Endpoint: ep}, fmt.Errorf("%w: %v", ErrUnreachable, err)
	}
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	ping, err := cli.Ping(pctx)
	if err != nil {
		cli.Close()
		return nil, EngineInfo{Endpoint: ep}, fmt.Errorf("%w: Docker is not reachable at %s (context %q, chosen by %s): %v: %s", ErrUnreachable, ep.Host, ep.Context, ep.Source, shortErr(err), StartHint(ep, goos, err))
	}
	cli.NegotiateAPIVersionPing(ping)
	info := EngineInfo{Endpoint: ep, APIVersion: cli.ClientVersion(), OS: ping.OSType}
	if v, err := cli.ServerVersion(pctx); err == nil {
		info.ServerVersion = v.Version
	}
	return cli, info, nil
}

// StartHint is the fix for an Engine that does not answer, by context.
func StartHint(ep Endpoint, goos string, err error) string {
	h := strings.ToLower(ep.Host + " " + ep.Context)
	switch {
	case err != nil && strings.Contains(err.Error(), "permission denied") && goos == "linux":
		return "your user may not use the Docker socket: `sudo usermod -aG docker $USER`, log out and in again, then run `cdb-setup up` again"
	case strings.Contains(h, "colima"):
		return "start colima with `colima start`, then run `cdb-setup up` again"
	case strings.Contains(h, "orbstack"):
		return "start OrbStack (`orb start`), then run `cdb-setup up` again"
	case strings.Contains(h, "rancher"):
		return "start Rancher Desktop, then run `cdb-setup up` again"
	case strings.Contains(h, "desktop") || strings.Contains(h, "docker_engine") || goos == "darwin" || goos == "windows":
		return "start Docker Desktop and wait until it says \"Engine running\", then run `cdb-setup up` again"
	case ep.Source == "DOCKER_HOST":
		return "check DOCKER_HOST (unset it to use the current docker context), then run `cdb-setup up` again"
	case goos != "linux":
		return "start your Docker Engine, then run `cdb-setup up` again"
	default:
		return "start the Docker Engine (`sudo systemctl start docker`), then run `cdb-setup up` again"
	}
}

// shortErr drops the client library's long "Cannot connect to the Docker
// daemon at ..." prefix duplication.
func shortErr(err error) string {
	s := err.Error()
	if i := strings.Index(s, ". Is the docker daemon running?"); i > 0 {
		s = s[:i]
	}
	return s
}
