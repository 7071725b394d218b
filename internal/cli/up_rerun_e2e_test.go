package cli

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/claire-de-binare/cdb-setup/internal/stack"
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
