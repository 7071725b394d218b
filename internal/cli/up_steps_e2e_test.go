package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/claire-de-binare/cdb-setup/internal/step"
)

// stepEnvelope parses the plan and results of a --json run.
func stepEnvelope(t *testing.T, stdout string) (plans []step.Change, results []step.Result) {
	t.Helper()
	parseEnvelope(t, stdout) // one document, every field there
	var e struct {
		Plan    []step.Change `json:"plan"`
		Results []step.Result `json:"results"`
	}
	if err := json.Unmarshal([]byte(stdout), &e); err != nil {
		t.Fatal(err)
	}
	return e.Plan, e.Results
}

func planOf(plans []step.Change, id string) (step.Change, bool) {
	for _, p := range plans {
		if p.Step == id {
			return p, true
		}
	}
	return step.Change{}, false
}

func inspect(t *testing.T, format, object string) string {
	t.Helper()
	out, err := exec.Command("docker", "inspect", "--format", format, object).Output()
	if err != nil {
		t.Fatalf("docker inspect %s: %v (it is gone)", object, err)
	}
	return strings.TrimSpace(string(out))
}

// down and up --recreate-volume are steps: --dry-run shows their plans (in
// the envelope's plan under --json), naming the containers that would be
// removed and the volume, as the Engine names it, whose data would be lost;
// and changes nothing: the real labelled volume and the running container
// survive.
func TestDownAndRecreateVolumeDryRunShowStepPlans(t *testing.T) {
	port := freePort(t)
	s := newStack(t, fmt.Sprintf(pgService, "", port), "", "pg")
	if r := s.run(context.Background(), s.env(), "up"); r.code != 0 {
		t.Fatalf("up: exit %d", r.code)
	}
	vol, ctr := s.project+"_pg_data", s.project+"-pg-1"
	created, started := inspect(t, "{{.CreatedAt}}", vol), inspect(t, "{{.State.StartedAt}}", ctr)

	// down --volumes --dry-run: the human plan, from the step.
	r := s.run(context.Background(), s.env(), "--dry-run", "down", "--volumes")
	if r.code != 0 || !strings.Contains(r.stderr, "Plan (dry run, nothing will change):") ||
		!strings.Contains(r.stderr, "down --volumes") || !strings.Contains(r.stderr, ctr) || !strings.Contains(r.stderr, "delete the volume(s) "+vol) {
		t.Fatalf("down --volumes --dry-run: exit %d\n%s", r.code, r.stderr)
	}
	// down --dry-run --json: the plan in the envelope, volumes kept.
	r = s.run(context.Background(), s.env(), "--dry-run", "--json", "down")
	plans, results := stepEnvelope(t, r.stdout)
	p, ok := planOf(plans, "stack.down")
	if r.code != 0 || !ok || p.None || !slices.Contains(p.Targets, "container "+ctr) || slices.Contains(p.Targets, "volume "+vol) || len(results) != 0 {
		t.Fatalf("down --dry-run --json: exit %d, plan %+v, results %+v", r.code, plans, results)
	}

	// up --recreate-volume --dry-run --json: which containers go and what
	// data is lost, then the start; nothing asked, nothing deleted.
	r = s.run(context.Background(), s.env(), "--dry-run", "--json", "up", "--recreate-volume", "pg_data")
	plans, results = stepEnvelope(t, r.stdout)
	p, ok = planOf(plans, "stack.recreate-volume."+vol)
	if r.code != 0 || !ok || p.None || !slices.Contains(p.Targets, "container "+ctr) || !slices.Contains(p.Targets, "volume "+vol) ||
		!strings.Contains(p.Summary, "delete volume "+vol) || !strings.Contains(p.Summary, "POSTGRES_PASSWORD") || !strings.Contains(p.Summary, ctr) || len(results) != 0 {
		t.Fatalf("up --recreate-volume --dry-run --json: exit %d, plan %+v, results %+v\n%s", r.code, plans, results, r.stderr)
	}
	if _, ok := planOf(plans, "stack.up"); !ok {
		t.Errorf("no stack.up plan: %+v", plans)
	}

	if inspect(t, "{{.CreatedAt}}", vol) != created {
		t.Fatalf("a dry run recreated the volume %s", vol)
	}
	if inspect(t, "{{.State.StartedAt}}", ctr) != started || inspect(t, "{{.State.Status}}", ctr) != "running" {
		t.Fatalf("a dry run touched the container %s", ctr)
	}
}

// up on a stack already running, healthy and unchanged reports its step
// "done" (already running and healthy), not "changed"; the first up, which
// started it, "changed". The wizard counts the same result.
func TestUpOnHealthyUnchangedStackIsDone(t *testing.T) {
	port := freePort(t)
	s := newStack(t, fmt.Sprintf(pgService, "", port), "", "pg")
	r := s.run(context.Background(), s.env(), "--json", "up")
	_, results := stepEnvelope(t, r.stdout)
	if r.code != 0 || len(results) != 1 || results[0].Step != "stack.up" || results[0].Status != step.StatusChanged {
		t.Fatalf("first up: exit %d, results %+v", r.code, results)
	}
	r = s.run(context.Background(), s.env(), "--json", "up")
	_, results = stepEnvelope(t, r.stdout)
	if r.code != 0 || len(results) != 1 || results[0].Status != step.StatusDone || !strings.Contains(results[0].Detail, "already running and healthy") {
		t.Fatalf("second up: exit %d, results %+v", r.code, results)
	}
	// A changed stack is a change again: the container stopped, up starts it.
	if out, err := exec.Command("docker", "stop", s.project+"-pg-1").CombinedOutput(); err != nil {
		t.Fatalf("docker stop: %v %s", err, out)
	}
	r = s.run(context.Background(), s.env(), "--json", "up")
	_, results = stepEnvelope(t, r.stdout)
	if r.code != 0 || len(results) != 1 || results[0].Status != step.StatusChanged {
		t.Fatalf("up after stop: exit %d, results %+v", r.code, results)
	}
}
