package stack

import (
	"fmt"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/claire-de-binare/cdb-setup/internal/composefile"
	"github.com/claire-de-binare/cdb-setup/internal/manifest"
)

// Port is one host port a service publishes.
type Port struct {
	Service string `json:"service"`
	HostIP  string `json:"host_ip"`
	Port    int    `json:"port"`
	Proto   string `json:"protocol"`
}

// Addr is host:port as a listener would bind it.
func (p Port) Addr() string {
	ip := p.HostIP
	if ip == "" {
		ip = "0.0.0.0"
	}
	if strings.Contains(ip, ":") && !strings.HasPrefix(ip, "[") {
		ip = "[" + ip + "]"
	}
	return fmt.Sprintf("%s:%d", ip, p.Port)
}

// Model is what up needs to know about the selected services, read from the
// merged compose files.
type Model struct {
	Project  string
	Services map[string]ServiceFacts
	// Start is the services compose will start: the targets and everything
	// they depend on (compose starts dependencies itself).
	Start   []string
	Volumes map[string]string // compose volume key → Engine volume name
}

// BuildModel extracts the facts up, preflight and diagnosis use from a
// loaded compose project. secretsDir resolves secret file names; the
// manifest's Volume: policies tie a secret to the volume keeping it.
func BuildModel(p *types.Project, m *manifest.Manifest, targets []string, secretsDir string) (*Model, error) {
	md := &Model{Project: p.Name, Services: map[string]ServiceFacts{}, Volumes: map[string]string{}}
	for key, v := range p.Volumes {
		name := v.Name
		if name == "" {
			name = p.Name + "_" + key
		}
		md.Volumes[key] = name
	}
	var missing []string
	seen := map[string]bool{}
	var visit func(name string)
	visit = func(name string) {
		if seen[name] {
			return
		}
		seen[name] = true
		svc, ok := p.Services[name]
		if !ok {
			missing = append(missing, name)
			return
		}
		deps := make([]string, 0, len(svc.DependsOn))
		for d := range svc.DependsOn {
			deps = append(deps, d)
		}
		sort.Strings(deps)
		for _, d := range deps {
			visit(d)
		}
		md.Start = append(md.Start, name)
	}
	for _, t := range targets {
		visit(t)
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("the compose files define no service %s: check `targets:` in cdb-setup.yaml, or the profile", strings.Join(missing, ", "))
	}
	for _, name := range md.Start {
		svc := p.Services[name]
		f := ServiceFacts{Image: svc.Image, HasBuild: svc.Build != nil}
		if f.Image == "" {
			f.Image = p.Name + "-" + name
		}
		for _, ref := range svc.Secrets {
			sc, ok := p.Secrets[ref.Source]
			if !ok || sc.File == "" {
				continue
			}
			target := composefile.SecretTarget(ref)
			fileName := filepath.Base(sc.File)
			mount := SecretMount{Name: fileName, Path: filepath.Join(secretsDir, fileName), Target: target}
			if pol, ok := m.Secrets[fileName]; ok && pol.Volume != "" && serviceUsesVolume(svc, pol.Volume) {
				mount.Volume = md.Volumes[pol.Volume]
			}
			f.Secrets = append(f.Secrets, mount)
		}
		for _, pc := range svc.Ports {
			ports, err := publishedPorts(pc.Published)
			if err != nil {
				return nil, fmt.Errorf("service %s: ports: %v", name, err)
			}
			for _, port := range ports {
				proto := pc.Protocol
				if proto == "" {
					proto = "tcp"
				}
				f.Ports = append(f.Ports, Port{Service: name, HostIP: pc.HostIP, Port: port, Proto: proto}.Addr())
			}
		}
		md.Services[name] = f
	}
	return md, nil
}

// Ports lists every published port of the started services.
func (md *Model) Ports(p *types.Project) []Port {
	var out []Port
	for _, name := range md.Start {
		for _, pc := range p.Services[name].Ports {
			ports, _ := publishedPorts(pc.Published)
			for _, port := range ports {
				proto := pc.Protocol
				if proto == "" {
					proto = "tcp"
				}
				out = append(out, Port{Service: name, HostIP: pc.HostIP, Port: port, Proto: proto})
			}
		}
	}
	return out
}

func serviceUsesVolume(svc types.ServiceConfig, key string) bool {
	for _, v := range svc.Volumes {
		if v.Type == types.VolumeTypeVolume && v.Source == key {
			return true
		}
	}
	return false
}

// publishedPorts expands "5432", "8002-8008" or "" (an ephemeral port,
// nothing to check).
func publishedPorts(s string) ([]int, error) {
	if s == "" {
		return nil, nil
	}
	lo, hi, isRange := strings.Cut(s, "-")
	a, err := strconv.Atoi(lo)
	if err != nil {
		return nil, fmt.Errorf("published port %q", s)
	}
	if !isRange {
		return []int{a}, nil
	}
	b, err := strconv.Atoi(hi)
	if err != nil || b < a || b-a > 1000 {
		return nil, fmt.Errorf("published port range %q", s)
	}
	out := make([]int, 0, b-a+1)
	for p := a; p <= b; p++ {
		out = append(out, p)
	}
	return out, nil
}
