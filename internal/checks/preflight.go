package checks

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/client"

	"github.com/claire-de-binare/cdb-setup/internal/manifest"
	"github.com/claire-de-binare/cdb-setup/internal/platform"
	"github.com/claire-de-binare/cdb-setup/internal/secrets"
	"github.com/claire-de-binare/cdb-setup/internal/stack"
	"github.com/claire-de-binare/cdb-setup/internal/tlscert"
)

// Engine is the Docker connection the checks share: the first check
// connects, the later ones use it (or skip when it failed).
type Engine struct {
	Client *client.Client
	Info   stack.EngineInfo
	Err    error
	// ID is the Engine's ID (docker info), read once when needed: volume
	// fingerprints are keyed by it.
	ID string
}

// SecretFile is a secret file the chosen services mount.
type SecretFile struct {
	Name     string
	Path     string
	Services []string
	Policy   manifest.Secret
}

// Image is a service's image.
type Image struct {
	Service  string
	Name     string
	HasBuild bool
}

// Preflight is what `up` checks before it starts anything.
type Preflight struct {
	Env  platform.Environment
	Home string
	GOOS string

	Engine  *Engine
	Compose *stack.Compose

	Project string
	// ComposeFiles are the absolute paths of the selected compose files;
	// ComposeDir is where compose reads .env from.
	ComposeFiles []string
	ComposeDir   string
	// SecretNames and SecretsDir tell secret-named variables apart
	// (secrets.ComposeEnv's rule).
	SecretNames []string
	SecretsDir  string
	Secrets     []SecretFile
	// TLSDir (<secrets>/tls) and TLSLeaves are checked when the tls
	// overlay is selected (tls.certs, checks_tls.go).
	TLSDir    string
	TLSLeaves []tlscert.Leaf
	Ports     []stack.Port
	Images    []Image
	// Build: --build was given, so every image with a build: section is
	// rebuilt anyway.
	Build bool
	// Rerun is the command to run again after a fix.
	Rerun string
	// Volumes maps compose volume keys to the Engine's names (the compose
	// model's); a key not in it is <Project>_<key>.
	Volumes map[string]string
	// Up is the `cdb-setup up ...` command fixes name (default Rerun, which
	// is up's own command line when up runs the checks).
	Up string
	// Recreate are the Engine names of the volumes `up --recreate-volume`
	// deletes before starting (the fix volumes.secrets gives).
	Recreate []string
	// StateDir holds the volume fingerprints (internal/volpass).
	StateDir string
	// Logins are the manifest's functional checks: a postgres-login check
	// names the service, role and database whose verifier volumes.secrets
	// reads while the stack runs.
	Logins []manifest.Check

	// fresh are the volumes volumes.secrets found missing (RecordFresh).
	fresh []FreshVolume
}

// Checks lists the preflight checks in the order they run.
func (p *Preflight) Checks() []Check {
	if p.Engine == nil {
		p.Engine = &Engine{}
	}
	if p.Compose == nil {
		p.Compose = &stack.Compose{}
	}
	list := []Check{
		{ID: "docker.engine", Title: "Docker Engine reachable through the current context", Run: p.dockerReachable},
		{ID: "docker.compose", Title: "Docker Compose v2 available", Run: p.composeAvailable},
		{ID: "secrets.files", Title: "Every mounted secret file exists and lints clean", Run: p.secretFiles},
		{ID: "compose.dotenv", Title: "Compose's .env holds no secret values", Run: p.composeDotEnv},
	}
	if p.TLSDir != "" {
		list = append(list, Check{ID: "tls.certs", Title: "TLS certificates present, valid for the services' names, not expired, pairs match", Run: p.tlsCerts})
	}
	list = append(list,
		// These use the Engine client the first check connects.
		Check{ID: "ports.free", Title: "Published host ports are free", Run: p.portsFree, Needs: "docker.engine"},
		Check{ID: "images.available", Title: "Images present or buildable", Run: p.images, Needs: "docker.engine"},
		Check{ID: "volumes.secrets", Title: "Volumes hold the passwords in the secret files", Run: p.volumesSecrets, Needs: "docker.engine"},
	)
	return list
}

// DockerReachable is the Engine check on its own (doctor uses it too).
func (p *Preflight) dockerReachable(ctx context.Context) Result {
	cli, info, err := stack.Connect(ctx, p.Env, p.Home, p.GOOS)
	p.Engine.Client, p.Engine.Info, p.Engine.Err = cli, info, err
	if err != nil {
		msg := strings.TrimPrefix(err.Error(), stack.ErrUnreachable.Error()+": ")
		detail, fix, _ := strings.Cut(msg, ": start")
		if fix != "" {
			fix = "start" + fix
		} else {
			fix = stack.StartHint(info.Endpoint, p.GOOS, err)
		}
		return Result{Status: Fail, Detail: detail, Fix: fix, Missing: true}
	}
	api, _ := strconv.ParseFloat(info.APIVersion, 64)
	detail := fmt.Sprintf("Docker Engine %s (API %s) at %s, context %q (%s)", info.ServerVersion, info.APIVersion, info.Endpoint.Host, info.Endpoint.Context, info.Endpoint.Source)
	if api > 0 && api < 1.40 {
		return fail(detail+": API 1.40 or newer is needed (healthcheck start periods, compose v2)", platform.DockerUpdateFix(p.GOOS))
	}
	return ok(detail)
}

func (p *Preflight) composeAvailable(ctx context.Context) Result {
	c, err := stack.LocateCompose(ctx, p.Env, nil)
	if err != nil {
		detail := err.Error()
		var nf *stack.ComposeNotFoundError
		if errors.As(err, &nf) {
			detail = nf.What() // the fix line below says what to install
		}
		return Result{Status: Fail, Detail: detail, Fix: platform.ComposeInstallFix(p.GOOS), Missing: true}
	}
	*p.Compose = c
	if c.V1 {
		if blockers := stack.V1Blockers(p.ComposeFiles); len(blockers) > 0 {
			return Result{Status: Fail, Missing: true,
				Detail: fmt.Sprintf("only the old Python docker-compose %s was found (%s), and it cannot read %s", c.Version, c.Argv[0], strings.Join(blockers, ", ")),
				Fix:    platform.ComposeInstallFix(p.GOOS) + "; then run `cdb-setup up` again"}
		}
		return warn(fmt.Sprintf("only the old Python docker-compose %s was found (%s); it %s", c.Version, c.Argv[0], strings.Join(c.Limits(), "; ")),
			platform.ComposeInstallFix(p.GOOS)+"; cdb-setup works with v1 but cannot rely on it")
	}
	return ok(fmt.Sprintf("%s %s (%s)", c, c.Version, c.Source))
}

func (p *Preflight) secretFiles(ctx context.Context) Result {
	var problems, warnings []string
	fix := "cdb-setup secrets init"
	for _, s := range p.Secrets {
		st, err := os.Lstat(s.Path)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			problems = append(problems, fmt.Sprintf("%s is missing (mounted by %s)", s.Name, strings.Join(s.Services, ", ")))
		case err != nil:
			problems = append(problems, fmt.Sprintf("%s: %v", s.Name, err))
		case st.IsDir():
			problems = append(problems, fmt.Sprintf("%s is a folder, not a file (Docker Desktop created it when the file was missing)", s.Path))
			fix = platform.RemoveEmptyDirCommand(p.GOOS, s.Path) + ", then: cdb-setup secrets init"
		case !st.Mode().IsRegular() && st.Mode()&fs.ModeSymlink == 0:
			problems = append(problems, fmt.Sprintf("%s is not a regular file", s.Path))
		default:
			data, err := secrets.ReadSecret(s.Path)
			if err != nil {
				problems = append(problems, fmt.Sprintf("%s cannot be read: %v", s.Name, err))
				continue
			}
			// The byte rules (CRLF, BOM, UTF-16, NUL, whitespace, policy):
			// a CRLF password passes every healthcheck and still locks
			// the apps out.
			for _, p := range secrets.Lint(s.Name, data, s.Policy) {
				switch p.Severity {
				case secrets.SevError:
					msg := p.Message
					if p.Code == secrets.CodeCRLF && len(s.Services) > 0 {
						// Name who actually reads it, not services in general.
						msg += " (read by " + strings.Join(s.Services, ", ") + ")"
					}
					problems = append(problems, msg)
					if p.Fixable {
						fix = "cdb-setup secrets fix"
					} else {
						fix = "cdb-setup secrets check"
					}
				case secrets.SevWarning:
					warnings = append(warnings, p.Message)
				}
			}
		}
	}
	if len(problems) > 0 {
		return fail(strings.Join(problems, "; "), fix)
	}
	if len(p.Secrets) == 0 {
		return ok("the started services mount no secret files")
	}
	if len(warnings) > 0 {
		return warn(strings.Join(warnings, "; "), "cdb-setup secrets check")
	}
	return ok(fmt.Sprintf("%d secret files present and clean in %s", len(p.Secrets), dirOf(p.Secrets)))
}

func dirOf(s []SecretFile) string {
	if len(s) == 0 {
		return "the secrets folder"
	}
	return filepath.Dir(s[0].Path)
}

// portsFree tries to bind every published port. A port held by this
// project's own container is fine (the stack is already up); anything
// else is named: the container holding it, or the process where the OS
// tells us.
func (p *Preflight) portsFree(ctx context.Context) Result {
	if len(p.Ports) == 0 {
		return ok("no host ports published")
	}
	holders := map[int]string{}
	own := map[int]bool{}
	if p.Engine.Client != nil {
		list, err := p.Engine.Client.ContainerList(ctx, container.ListOptions{Filters: filters.NewArgs(filters.Arg("status", "running"))})
		if err == nil {
			for _, c := range list {
				for _, pt := range c.Ports {
					if pt.PublicPort == 0 {
						continue
					}
					name := strings.TrimPrefix(firstOr(c.Names, c.ID[:12]), "/")
					if c.Labels[stack.LabelProject] == p.Project {
						own[int(pt.PublicPort)] = true
					}
					holders[int(pt.PublicPort)] = "container " + name
				}
			}
		}
	}
	var busy []string
	var fixes []string
	for _, port := range p.Ports {
		if own[port.Port] {
			continue
		}
		if port.Proto != "tcp" {
			continue
		}
		ln, err := net.Listen("tcp", port.Addr())
		if err == nil {
			ln.Close()
			if h, ok := holders[port.Port]; ok {
				// Bound on another address (e.g. 0.0.0.0 vs 127.0.0.1) by a
				// container: the Engine will still refuse it.
				busy = append(busy, fmt.Sprintf("%s (%s) is held by %s", port.Addr(), port.Service, h))
				fixes = append(fixes, "docker stop "+strings.TrimPrefix(h, "container "))
			}
			continue
		}
		if isPermission(err) {
			continue // privileged port: the Engine binds it, not us
		}
		who, ok := holders[port.Port]
		if !ok {
			who = processHolding(port.Port)
		}
		busy = append(busy, fmt.Sprintf("%s (%s) is held by %s", port.Addr(), port.Service, who))
		switch {
		case strings.HasPrefix(who, "container "):
			fixes = append(fixes, "docker stop "+strings.TrimPrefix(who, "container "))
		case strings.HasPrefix(who, dockerProxy):
			fixes = append(fixes, "make the Docker Engine reachable (the Docker check) so the container can be named; if it is this project's own, the port is fine (never kill docker-proxy)")
		default:
			fixes = append(fixes, stopProcessHint(p.GOOS, port.Port, who))
		}
	}
	if len(busy) > 0 {
		return fail(strings.Join(busy, "; "), strings.Join(dedup(fixes), "; ")+"; then: "+p.Rerun)
	}
	return ok(fmt.Sprintf("%d published ports free", len(p.Ports)))
}

// dockerProxy is the Docker Engine's port proxy process.
const dockerProxy = "docker-proxy"

func isPermission(err error) bool {
	return errors.Is(err, os.ErrPermission) || strings.Contains(err.Error(), "permission denied")
}

func (p *Preflight) images(ctx context.Context) Result {
	if p.Engine.Client == nil {
		return skip("Docker is not reachable")
	}
	var missing, willBuild []string
	built := builtImages(p.Images)
	for _, im := range p.Images {
		_, err := p.Engine.Client.ImageInspect(ctx, im.Name)
		switch {
		case err == nil:
		case im.HasBuild || built[im.Name]:
			willBuild = append(willBuild, im.Service)
		default:
			missing = append(missing, fmt.Sprintf("%s (%s)", im.Name, im.Service))
		}
	}
	if len(missing) > 0 {
		return warn("not on this machine, compose will pull them (needs registry access): "+strings.Join(missing, ", "),
			"docker pull <image> on a network that reaches the registry")
	}
	if len(willBuild) > 0 && !p.Build {
		return ok("present; compose will build " + strings.Join(willBuild, ", "))
	}
	return ok(fmt.Sprintf("%d images present or buildable", len(p.Images)))
}

// builtImages are the images a started service builds: compose does not
// pull an image another service of the project builds (the demo's five
// services share one image that only demo_redis builds).
func builtImages(images []Image) map[string]bool {
	m := map[string]bool{}
	for _, im := range images {
		if im.HasBuild {
			m[im.Name] = true
		}
	}
	return m
}

func firstOr(list []string, def string) string {
	if len(list) > 0 {
		return list[0]
	}
	return def
}

func dedup(in []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range in {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// stopProcessHint: who is what processHolding said ("name (pid 123)" when
// the OS told us).
func stopProcessHint(goos string, port int, who string) string {
	pid := ""
	if i := strings.Index(who, "pid "); i >= 0 {
		pid = strings.TrimRightFunc(strings.Fields(who[i+4:])[0], func(r rune) bool { return r < '0' || r > '9' })
	}
	return platform.StopPortHolderHint(goos, port, who, pid)
}
