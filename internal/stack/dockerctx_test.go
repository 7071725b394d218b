package stack

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/claire-de-binare/cdb-setup/internal/platform"

	"github.com/claire-de-binare/cdb-setup/internal/testenv"
)

// writeContext stores a docker context the way `docker context create` does.
func writeContext(t *testing.T, cfgDir, name, host string) {
	t.Helper()
	sum := sha256.Sum256([]byte(name))
	dir := filepath.Join(cfgDir, "contexts", "meta", hex.EncodeToString(sum[:]))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	meta := `{"Name":` + strconv.Quote(name) + `,"Metadata":{},"Endpoints":{"docker":{"Host":` + strconv.Quote(host) + `,"SkipTLSVerify":false}}}`
	if err := os.WriteFile(filepath.Join(dir, "meta.json"), []byte(meta), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestResolveEndpoint(t *testing.T) {
	home := testenv.TempDir(t)
	cfg := filepath.Join(home, ".docker")
	writeContext(t, cfg, "desktop-linux", "unix://"+home+"/.docker/run/docker.sock")
	writeContext(t, cfg, "colima", "unix://"+home+"/.colima/default/docker.sock")
	writeContext(t, cfg, "orbstack", "unix://"+home+"/.orbstack/run/docker.sock")
	if err := os.WriteFile(filepath.Join(cfg, "config.json"), []byte(`{"auths":{},"currentContext":"desktop-linux"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	otherCfg := testenv.TempDir(t)

	tests := []struct {
		name    string
		env     platform.MapEnvironment
		goos    string
		host    string
		context string
		source  string
	}{
		{"DOCKER_HOST wins over everything", platform.MapEnvironment{"DOCKER_HOST": "tcp://10.0.0.1:2376", "DOCKER_CONTEXT": "colima"}, "linux", "tcp://10.0.0.1:2376", "default", "DOCKER_HOST"},
		{"DOCKER_CONTEXT wins over currentContext", platform.MapEnvironment{"DOCKER_CONTEXT": "colima"}, "darwin", "unix://" + home + "/.colima/default/docker.sock", "colima", "DOCKER_CONTEXT"},
		{"currentContext of Docker Desktop", platform.MapEnvironment{}, "darwin", "unix://" + home + "/.docker/run/docker.sock", "desktop-linux", "currentContext"},
		{"OrbStack", platform.MapEnvironment{"DOCKER_CONTEXT": "orbstack"}, "darwin", "unix://" + home + "/.orbstack/run/docker.sock", "orbstack", "DOCKER_CONTEXT"},
		{"no config: Linux default socket", platform.MapEnvironment{"DOCKER_CONFIG": otherCfg}, "linux", "unix:///var/run/docker.sock", "default", "platform default"},
		{"no config: Windows named pipe", platform.MapEnvironment{"DOCKER_CONFIG": otherCfg}, "windows", "npipe:////./pipe/docker_engine", "default", "platform default"},
		{"context named default", platform.MapEnvironment{"DOCKER_CONTEXT": "default"}, "linux", "unix:///var/run/docker.sock", "default", "platform default"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ep, err := ResolveEndpoint(tt.env, home, tt.goos)
			if err != nil {
				t.Fatal(err)
			}
			if ep.Host != tt.host || ep.Context != tt.context || !strings.HasPrefix(ep.Source, tt.source) {
				t.Errorf("got %+v, want host %s context %s source %s", ep, tt.host, tt.context, tt.source)
			}
		})
	}

	t.Run("unknown context names the fix", func(t *testing.T) {
		_, err := ResolveEndpoint(platform.MapEnvironment{"DOCKER_CONTEXT": "gone"}, home, "linux")
		if err == nil || !strings.Contains(err.Error(), "docker context use default") {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestStartHint(t *testing.T) {
	tests := []struct {
		ep   Endpoint
		goos string
		err  error
		want string
	}{
		{Endpoint{Host: "unix:///Users/u/.colima/default/docker.sock", Context: "colima"}, "darwin", nil, "colima start"},
		{Endpoint{Host: "unix:///Users/u/.orbstack/run/docker.sock", Context: "orbstack"}, "darwin", nil, "OrbStack"},
		{Endpoint{Host: "unix:///Users/u/.docker/run/docker.sock", Context: "desktop-linux"}, "darwin", nil, "Docker Desktop"},
		{Endpoint{Host: "npipe:////./pipe/docker_engine", Context: "default"}, "windows", nil, "Docker Desktop"},
		{Endpoint{Host: "unix:///var/run/docker.sock", Context: "default", Source: "platform default"}, "linux", nil, "systemctl start docker"},
		{Endpoint{Host: "unix:///var/run/docker.sock"}, "linux", errors.New("dial unix /var/run/docker.sock: connect: permission denied"), "usermod -aG docker"},
	}
	for _, tt := range tests {
		if got := StartHint(tt.ep, tt.goos, tt.err); !strings.Contains(got, tt.want) {
			t.Errorf("%s: %q does not contain %q", tt.ep.Context, got, tt.want)
		}
	}
}
