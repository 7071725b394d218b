package stack

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/volume"
	"github.com/docker/docker/pkg/stdcopy"

	"github.com/claire-de-binare/cdb-setup/internal/testenv"
)

// fakeEngine answers diagnosis' Engine calls from fixed data. It stands in
// for the Engine and compose texts below (missing mounts, port conflicts,
// pull failures: what Docker prints, not a server). What a real server says
// about a wrong password is tested against the real PostgreSQL and Redis in
// realserver_test.go.
type fakeEngine struct {
	logs         []string
	probe        string
	user         string
	volumeCreate time.Time
}

func (f fakeEngine) ContainerInspect(ctx context.Context, id string) (container.InspectResponse, error) {
	ci := container.InspectResponse{ContainerJSONBase: &container.ContainerJSONBase{ID: id, State: &container.State{Status: "running",
		Health: &container.Health{Status: "unhealthy", FailingStreak: 3, Log: []*container.HealthcheckResult{{ExitCode: 1, Output: f.probe}}}}}}
	ci.Config = &container.Config{User: f.user}
	return ci, nil
}

func (f fakeEngine) ContainerLogs(ctx context.Context, id string, o container.LogsOptions) (io.ReadCloser, error) {
	var buf bytes.Buffer
	w := stdcopy.NewStdWriter(&buf, stdcopy.Stdout)
	for _, l := range f.logs {
		_, _ = w.Write([]byte(l + "\n"))
	}
	return io.NopCloser(&buf), nil
}

func (f fakeEngine) VolumeInspect(ctx context.Context, name string) (volume.Volume, error) {
	return volume.Volume{Name: name, CreatedAt: f.volumeCreate.UTC().Format(time.RFC3339)}, nil
}

func TestDiagnoseRecognisesCauses(t *testing.T) {
	dir := testenv.TempDir(t)
	secret := filepath.Join(dir, "POSTGRES_PASSWORD")
	if err := os.WriteFile(secret, []byte("s3cretvalue"), 0o644); err != nil {
		t.Fatal(err)
	}
	asDir := filepath.Join(dir, "REDIS_PASSWORD")
	if err := os.Mkdir(asDir, 0o755); err != nil {
		t.Fatal(err)
	}
	pgMount := SecretMount{Name: "POSTGRES_PASSWORD", Path: secret, Target: "/run/secrets/postgres_password", Volume: "cdb_postgres_data"}
	running := Service{Name: "svc", ContainerID: "abc", Outcome: Failed, Reason: ReasonUnhealthy}
	notCreated := Service{Name: "svc", Outcome: Failed, Reason: ReasonNotCreated}

	tests := []struct {
		name    string
		engine  fakeEngine
		svc     Service
		facts   ServiceFacts
		compose string
		cause   string
		fix     []string
	}{
		// The Grafana case keeps a fake: Grafana has no Debian package, so no
		// real Grafana can run here (its message is the one Grafana's
		// entrypoint prints).
		{"Grafana refuses PASSWORD and __FILE together",
			fakeEngine{logs: []string{"ERROR: Both GF_SECURITY_ADMIN_PASSWORD and GF_SECURITY_ADMIN_PASSWORD__FILE are set (but are exclusive)"}},
			running, ServiceFacts{}, "", CauseGrafanaBoth,
			[]string{"remove GF_SECURITY_ADMIN_PASSWORD", filepath.Join("compose", ".env")}},
		{"secret unreadable by the container's uid",
			fakeEngine{logs: []string{"cat: can't open '/run/secrets/postgres_password': Permission denied"}, user: "1000"},
			running, ServiceFacts{Secrets: []SecretMount{pgMount}}, "", CauseSecretUnreadable,
			onOS([]string{"chmod 0644", secret}, []string{"cdb-setup secrets fix"})},
		{"secret file missing: compose could not create the container",
			fakeEngine{}, notCreated, ServiceFacts{},
			`Error response from daemon: invalid mount config for type "bind": bind source path does not exist: ` + filepath.Join(dir, "SMTP_USER"),
			CauseSecretMissing, []string{"cdb-setup secrets init"}},
		{"another bind mount missing",
			fakeEngine{}, notCreated, ServiceFacts{},
			`Error response from daemon: invalid mount config for type "bind": bind source path does not exist: /repo/infrastructure/database/schema.sql`,
			CauseMountMissing, []string{"create /repo/infrastructure/database/schema.sql"}},
		{"secret path is a folder",
			fakeEngine{}, notCreated, ServiceFacts{Secrets: []SecretMount{{Name: "REDIS_PASSWORD", Path: asDir, Target: "/run/secrets/redis_password"}}},
			`error mounting "` + asDir + `" to rootfs at "/run/secrets/redis_password": not a directory`,
			CauseSecretIsDir, onOS([]string{"rmdir", "cdb-setup secrets init"}, []string{"Remove-Item -Recurse '" + asDir + "'", "cdb-setup secrets init"})},
		{"port conflict",
			fakeEngine{}, notCreated, ServiceFacts{Ports: []string{"127.0.0.1:6379"}},
			"Error response from daemon: driver failed programming external connectivity: Bind for 127.0.0.1:6379 failed: port is already allocated",
			CausePortConflict, []string{"publish=6379"}},
		{"image missing and buildable",
			fakeEngine{}, notCreated, ServiceFacts{Image: "cdb-cdb_ws", HasBuild: true},
			"pull access denied for cdb-cdb_ws, repository does not exist or may require 'docker login'",
			CauseImageMissing, []string{"--build"}},
		{"image missing, pull only",
			fakeEngine{}, notCreated, ServiceFacts{Image: "redis:7.4-alpine"},
			"Error response from daemon: Get \"https://registry-1.docker.io/v2/\": dial tcp: lookup registry-1.docker.io: no such host",
			CauseImageMissing, []string{"docker pull redis:7.4-alpine"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := DiagnoseInput{API: tt.engine, Project: "cdb", ComposeOutput: tt.compose, Services: map[string]ServiceFacts{"svc": tt.facts},
				SecretsDir: dir, ComposeDir: "compose", Rerun: "cdb-setup up"}
			d := Diagnose(context.Background(), in, tt.svc)
			if d.Cause != tt.cause {
				t.Fatalf("cause %q (%s), want %q", d.Cause, d.Explanation, tt.cause)
			}
			for _, want := range tt.fix {
				if !strings.Contains(d.Fix, want) {
					t.Errorf("fix %q lacks %q", d.Fix, want)
				}
			}
		})
	}
}

func TestDiagnoseEvidenceIsRedacted(t *testing.T) {
	eng := fakeEngine{logs: []string{"connecting with password hunter2hunter2", "ok"}, probe: "auth hunter2hunter2 failed"}
	in := DiagnoseInput{API: eng, Services: map[string]ServiceFacts{}, Rerun: "cdb-setup up",
		Redact: func(s string) string { return strings.ReplaceAll(s, "hunter2hunter2", "[redacted]") }}
	d := Diagnose(context.Background(), in, Service{Name: "svc", ContainerID: "abc", Outcome: Failed, Reason: ReasonUnhealthy})
	all := strings.Join(d.Logs, "\n") + d.ProbeOutput
	if strings.Contains(all, "hunter2") || !strings.Contains(all, "[redacted]") {
		t.Errorf("evidence not redacted: %q", all)
	}
	if d.ProbeExit == nil || *d.ProbeExit != 1 || len(d.Logs) != 2 {
		t.Errorf("evidence: exit %v, %d log lines", d.ProbeExit, len(d.Logs))
	}
}

// FuzzDiagnose feeds arbitrary log and compose text through the cause
// recognisers: they parse text from services we do not control.
func FuzzDiagnose(f *testing.F) {
	for _, s := range []string{
		"bind source path does not exist: /x/REDIS_PASSWORD",
		"Bind for 127.0.0.1:6379 failed: port is already allocated",
		"ERROR: Both A and A__FILE are set (but are exclusive)",
		"cat: /run/secrets/x: Permission denied",
		"password authentication failed for user \"u\"",
		"pull access denied", "", "not a directory", ":",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		in := DiagnoseInput{API: fakeEngine{logs: []string{text}}, ComposeOutput: text, SecretsDir: "/x", Rerun: "cdb-setup up",
			Services: map[string]ServiceFacts{"svc": {Secrets: []SecretMount{{Name: "X", Path: "/x/X", Target: "/run/secrets/x"}}}}}
		for _, s := range []Service{{Name: "svc", ContainerID: "c", Outcome: Failed, Reason: ReasonUnhealthy}, {Name: "svc", Outcome: Failed, Reason: ReasonNotCreated}} {
			if d := Diagnose(context.Background(), in, s); d.Fix == "" {
				t.Fatalf("no fix for %q", text)
			}
		}
		res := WaitResult{Services: []Service{{Name: "svc", Outcome: Waiting}}}
		FailNotStarted(&res, text)
	})
}

// onOS picks the fix text expected on this OS: the diagnosis gives
// PowerShell commands on Windows and POSIX ones elsewhere.
func onOS(unix, windows []string) []string {
	if runtime.GOOS == "windows" {
		return windows
	}
	return unix
}
