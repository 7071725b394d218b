package cli

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/claire-de-binare/cdb-setup/internal/stack"
	"github.com/claire-de-binare/cdb-setup/internal/testenv"
)

// TestUpOneShotRestartedIsNotTimedOut is the false failure of issue 14 on
// the real Engine: compose starts a finished one-shot (a migration) again on
// every `up` that has work to do, without recreating it. Its health budget
// (here 18s: start period 4s, interval 1s, timeout 1s, 1 retry; the
// task runs 2s, inside its start period) must count from that start,
// not from the creation of the container long ago: up must succeed, with
// the one-shot finished again (exit 0).
func TestUpOneShotRestartedIsNotTimedOut(t *testing.T) {
	s := newStack(t, `
  app:
    image: IMAGE
    restart: unless-stopped
    environment: {FAKE_HEALTHY_AFTER: 1s}
  migrate:
    image: IMAGE
    restart: "no"
    environment: {FAKE_MODE: oneshot, FAKE_RUN_FOR: 2s}
    healthcheck: {test: ["CMD", "/svc", "probe"], interval: 1s, timeout: 1s, retries: 1, start_period: 4s}
`, "", "app", "migrate")
	ctx := context.Background()
	env := s.env()
	if r := s.run(ctx, env, "up"); r.code != 0 {
		t.Fatalf("first up: exit %d", r.code)
	}
	created := containerField(t, s.project, "migrate", "{{.Created}}")
	// Let the one-shot's container grow older than its budget (the setup of
	// the situation, not a timing assertion), then give up work to do: a
	// stopped app makes compose start the project again, migrate included.
	time.Sleep(stack.Budget(stack.Healthcheck{Present: true, Interval: time.Second, Timeout: time.Second, Retries: 1, StartPeriod: 4 * time.Second}) + time.Second)
	if out, err := exec.Command("docker", "stop", s.project+"-app-1").CombinedOutput(); err != nil {
		t.Fatalf("docker stop: %v: %s", err, out)
	}
	r := s.run(ctx, env, "up", "--json")
	if r.code != 0 {
		t.Fatalf("second up: exit %d (a restarted one-shot was timed out from its creation?)\n%s", r.code, r.stderr)
	}
	if got := containerField(t, s.project, "migrate", "{{.Created}}"); got != created {
		t.Fatalf("migrate was recreated (%s, was %s): the test needs the same container started again", got, created)
	}
	started := containerField(t, s.project, "migrate", "{{.State.StartedAt}}")
	if startedAt, _ := time.Parse(time.RFC3339Nano, started); !startedAt.After(mustTime(t, created).Add(10 * time.Second)) {
		t.Fatalf("migrate was not started again by the second up (started %s, created %s)", started, created)
	}
	rep := jsonReport(t, r)
	for _, svc := range rep.Services {
		if svc.Name == "migrate" && (svc.Outcome != stack.Ready || svc.Detail != "finished (exit code 0)") {
			t.Errorf("migrate: %s %s, want ready: finished (exit code 0)", svc.Outcome, svc.Detail)
		}
	}
}

// containerField is docker inspect's template output for a service's container.
func containerField(t *testing.T, project, service, format string) string {
	t.Helper()
	out, err := exec.Command("docker", "inspect", "-f", format, fmt.Sprintf("%s-%s-1", project, service)).Output()
	if err != nil {
		t.Fatalf("docker inspect %s: %v", service, err)
	}
	return strings.TrimSpace(string(out))
}

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestDemoRerunKeepsContainers runs the real demo (examples/demo, its image
// built by examples/demo/build.sh) through the wizard twice on the real
// Engine, as issue 14 did: the first run generates the secrets, has compose
// build the image and starts the five services; the second says
// "Everything already done" and keeps every container — same IDs, and the
// finished one-shot not started again (compose was not needed). The copy
// only renames the project and image and moves the ports to free ones, so
// it can run next to other tests.
func TestDemoRerunKeepsContainers(t *testing.T) {
	needStack(t)
	root, _ := filepath.Abs("../..")
	if out, err := exec.Command("sh", filepath.Join(root, "examples/demo/build.sh")).CombinedOutput(); err != nil {
		t.Fatalf("examples/demo/build.sh: %v: %s", err, out)
	}
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	project := "cdbtstack-demo-" + hex.EncodeToString(b)
	image := project + ":rerun"
	s := &e2eStack{t: t, repo: testenv.TempDir(t), secrets: filepath.Join(testenv.TempDir(t), "secrets"), project: project, values: map[string]string{}, state: testenv.TempDir(t)}
	ports := map[string]string{"16379": fmt.Sprint(freePort(t)), "15432": fmt.Sprint(freePort(t)), "13000": fmt.Sprint(freePort(t))}
	copyDemo(t, filepath.Join(root, "examples/demo"), s.repo, func(rel string, b []byte) []byte {
		txt := string(b)
		for from, to := range ports {
			txt = strings.ReplaceAll(txt, "127.0.0.1:"+from, "127.0.0.1:"+to)
		}
		txt = strings.ReplaceAll(txt, "cdbdemo-svc:dev", image)
		if rel == "cdb-setup.yaml" {
			txt = strings.Replace(txt, "project: cdbdemo", "project: "+project, 1)
		}
		return []byte(txt)
	})
	t.Cleanup(func() { _ = exec.Command("docker", "image", "rm", "-f", image).Run() })
	t.Cleanup(s.remove)

	ctx := context.Background()
	env := s.env()
	env["HOME"] = testenv.TempDir(t)
	delete(env, "XDG_STATE_HOME")
	delete(env, "CDB_SETUP_STATE_DIR")
	delete(env, "STACK_NAME")
	delete(env, "DEMO_IMAGE")
	r := s.run(ctx, env, "--yes", "--persist", "none", "--hook=false")
	if r.code != 0 || !strings.Contains(r.stderr, "the stack is up and every service is healthy") {
		t.Fatalf("first run: exit %d", r.code)
	}
	// The services that use the image demo_redis builds are not "to pull".
	if strings.Contains(r.stderr, "compose will pull") {
		t.Errorf("the preflight says an image another service builds will be pulled")
	}
	for _, name := range []string{"REDIS_PASSWORD", "POSTGRES_PASSWORD", "GRAFANA_PASSWORD"} {
		v, err := os.ReadFile(filepath.Join(s.secrets, name))
		must(t, err)
		s.values[name] = string(v)
	}
	before := demoContainers(t, project)
	if len(before) != 5 {
		t.Fatalf("want the demo's 5 containers, got %v", before)
	}

	r = s.run(ctx, env, "--no-input")
	if r.code != 0 || !strings.Contains(r.stderr, "Everything already done ✓") {
		t.Fatalf("re-run: exit %d, want Everything already done", r.code)
	}
	after := demoContainers(t, project)
	for svc, b := range before {
		if a := after[svc]; a != b {
			t.Errorf("%s: container %s before the re-run, %s after (recreated or started again)", svc, b, a)
		}
	}
}

// demoContainers maps each service of project to its container ID and
// last start.
func demoContainers(t *testing.T, project string) map[string]string {
	t.Helper()
	out, err := exec.Command("docker", "ps", "-aq", "--filter", "label=com.docker.compose.project="+project).Output()
	must(t, err)
	m := map[string]string{}
	for _, id := range strings.Fields(string(out)) {
		info, err := exec.Command("docker", "inspect", "-f", `{{index .Config.Labels "com.docker.compose.service"}} {{.ID}} {{.State.StartedAt}}`, id).Output()
		must(t, err)
		svc, rest, _ := strings.Cut(strings.TrimSpace(string(info)), " ")
		m[svc] = rest
	}
	return m
}

// copyDemo copies the demo folder (manifest, compose files, image context
// with the binary build.sh made), passing each text file through edit.
func copyDemo(t *testing.T, from, to string, edit func(rel string, b []byte) []byte) {
	t.Helper()
	err := filepath.WalkDir(from, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		dst := filepath.Join(to, rel)
		if d.IsDir() {
			return os.MkdirAll(dst, 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		mode := os.FileMode(0o644)
		if rel == filepath.Join("image", "svc") {
			mode = 0o755
		} else {
			b = edit(filepath.ToSlash(rel), b)
		}
		return os.WriteFile(dst, b, mode)
	})
	must(t, err)
}
