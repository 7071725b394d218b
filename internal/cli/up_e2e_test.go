package cli

// End-to-end tests of `cdb-setup up` and `down` on the real Docker Engine with
// Compose v2 (scripts/test.sh builds it and exports CDB_SETUP_COMPOSE). Where
// a real server's behaviour is under test (logins, refused passwords), the
// stack is the realstack fixture on the real PostgreSQL 15 and Redis 7 images
// (scripts/server-images.sh). The Engine-level cases (crash loops, unhealthy
// probes, unreadable secrets, Grafana) use an image built here from the
// project's fake service (FROM scratch): the CI machine reaches no registry and
// Grafana has no Debian package. Every project, image and volume is named
// cdbtstack-* and removed at the end.

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/claire-de-binare/cdb-setup/internal/checks"
	"github.com/claire-de-binare/cdb-setup/internal/platform"
	"github.com/claire-de-binare/cdb-setup/internal/stack"
	"github.com/claire-de-binare/cdb-setup/internal/testenv"
	"github.com/claire-de-binare/cdb-setup/internal/testenv/realstack"
	"github.com/claire-de-binare/cdb-setup/internal/volpass"
)

// e2eImage is unique to this test process: test runs of other checkouts on
// the same Engine build and remove their own image, never this one.
var e2eImage = fmt.Sprintf("cdbtstack-fakesvc:e2e-%d-%d", os.Getpid(), time.Now().UnixNano()%1e6)

var (
	imageOnce  sync.Once
	imageErr   error
	imageBuilt bool
)

// needStack skips (or under CDB_SETUP_REQUIRE_ALL fails) without a Docker
// Engine and Compose v2, and builds the fake service image once.
func needStack(t *testing.T) {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("the e2e stack tests build a linux image and run on the Linux CI engine")
	}
	docker := testenv.NeedCommand(t, "docker")
	ok := exec.Command(docker, "info").Run() == nil
	testenv.Need(t, ok, "a running Docker Engine (`docker info` failed)")
	testenv.Need(t, os.Getenv("CDB_SETUP_COMPOSE") != "", "Compose v2 as CDB_SETUP_COMPOSE (scripts/test.sh builds it from the module cache)")
	imageOnce.Do(func() { imageErr = buildFakeImage(docker); imageBuilt = imageErr == nil })
	if imageErr != nil {
		t.Fatalf("build %s: %v", e2eImage, imageErr)
	}
}

func buildFakeImage(docker string) error {
	dir, err := os.MkdirTemp("", "cdbtstack-img-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	root, _ := filepath.Abs("../..")
	build := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w", "-o", filepath.Join(dir, "svc"), "./internal/fakesvc")
	build.Dir = root
	build.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux")
	if out, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("go build fakesvc: %v: %s", err, out)
	}
	if err := os.MkdirAll(filepath.Join(dir, "data"), 0o755); err != nil {
		return err
	}
	df, err := os.ReadFile(filepath.Join(root, "examples/demo/image/Dockerfile"))
	if err != nil {
		return err
	}
	// The e2e image also has the fake as /bin/test, so the in-container
	// `test -r` readability check runs (the demo image has no test and
	// exercises the host-side fallback).
	// And as /bin/grafana: the fake Grafana CLI (grafana has no Debian
	// package; see internal/fakesvc).
	df = append(df, []byte("\nCOPY svc /bin/test\nCOPY svc /bin/grafana\n")...)
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), df, 0o644); err != nil {
		return err
	}
	cmd := exec.Command(docker, "build", "-q", "-t", e2eImage, dir)
	cmd.Env = append(os.Environ(), "DOCKER_BUILDKIT=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("docker build: %v: %s", err, out)
	}
	return nil
}

// cleanupE2E removes the image the e2e tests built (called by TestMain in
// main_test.go, which the package shares with the wizard's terminal tests).
func cleanupE2E() {
	if imageBuilt {
		_ = exec.Command("docker", "image", "rm", "-f", e2eImage).Run()
	}
}

// e2eStack is one test's stack: a repo with cdb-setup.yaml and a compose
// file, a secrets folder, and a unique project name.
type e2eStack struct {
	t       *testing.T
	repo    string
	secrets string
	project string
	values  map[string]string
	// state is this test's state folder (volume fingerprints, run lock).
	state string
}

func newStack(t *testing.T, services string, manifestExtra string, targets ...string) *e2eStack {
	t.Helper()
	needStack(t)
	return newStackNamed(t, "cdbtstack-", services, manifestExtra, targets...)
}

// newStackNamed is newStack for a test that starts nothing (no image is
// built): the project is prefix + random hex.
func newStackNamed(t *testing.T, prefix, services string, manifestExtra string, targets ...string) *e2eStack {
	t.Helper()
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	s := &e2eStack{t: t, repo: testenv.TempDir(t), secrets: testenv.TempDir(t), project: prefix + hex.EncodeToString(b), values: map[string]string{}, state: testenv.TempDir(t)}
	if err := os.Chmod(s.secrets, 0o700); err != nil {
		t.Fatal(err)
	}
	manifest := fmt.Sprintf(`version: 1
project: %s
compose_dir: compose
profiles:
  dev: [base.yml]
default_profile: dev
targets: [%s]
secrets:
  REDIS_PASSWORD: {kind: generated}
  POSTGRES_PASSWORD: {kind: generated, volume: pg_data}
%s`, s.project, strings.Join(targets, ", "), manifestExtra)
	compose := fmt.Sprintf(`name: %s
services:
%s
volumes:
  pg_data:
secrets:
  redis_password:
    file: ${SECRETS_PATH}/REDIS_PASSWORD
  postgres_password:
    file: ${SECRETS_PATH}/POSTGRES_PASSWORD
`, s.project, strings.ReplaceAll(services, "IMAGE", e2eImage))
	if err := os.MkdirAll(filepath.Join(s.repo, "compose"), 0o755); err != nil {
		t.Fatal(err)
	}
	must(t, os.WriteFile(filepath.Join(s.repo, "cdb-setup.yaml"), []byte(manifest), 0o644))
	must(t, os.WriteFile(filepath.Join(s.repo, "compose", "base.yml"), []byte(compose), 0o644))
	s.setSecret("REDIS_PASSWORD", 0o644)
	s.setSecret("POSTGRES_PASSWORD", 0o644)
	t.Cleanup(s.remove)
	return s
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// setSecret writes a fresh random password (never printed).
func (s *e2eStack) setSecret(name string, mode os.FileMode) {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	v := "pw" + hex.EncodeToString(b)
	p := filepath.Join(s.secrets, name)
	must(s.t, os.WriteFile(p, []byte(v), mode))
	must(s.t, os.Chmod(p, mode))
	s.values[name] = v
}

func (s *e2eStack) env() platform.MapEnvironment {
	env := platform.EnvironmentFrom(os.Environ())
	delete(env, "SECRETS_PATH")
	delete(env, "NO_COLOR")
	env["CDB_SETUP_STATE_DIR"] = s.state
	return env
}

type runResult struct {
	code           int
	stdout, stderr string
}

// run executes the real command line in-process.
func (s *e2eStack) run(ctx context.Context, env platform.MapEnvironment, args ...string) runResult {
	s.t.Helper()
	var out, errOut syncBuffer
	io := &IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}
	full := append([]string{"--repo", s.repo, "--secrets-path", s.secrets}, args...)
	code := Main(ctx, full, io, env)
	r := runResult{code: code, stdout: out.String(), stderr: errOut.String()}
	for name, v := range s.values {
		if strings.Contains(r.stdout+r.stderr, v) {
			s.t.Errorf("the value of %s appeared in the output", name)
		}
	}
	s.t.Logf("cdb-setup %s → exit %d\n%s%s", strings.Join(args, " "), code, r.stdout, r.stderr)
	return r
}

func (s *e2eStack) remove() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var out, errOut bytes.Buffer
	io := &IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}
	if code := Main(ctx, []string{"--repo", s.repo, "--secrets-path", s.secrets, "down", "--volumes", "--yes"}, io, s.env()); code != 0 {
		// A stack the test broke on purpose (a missing bind source, say)
		// may be beyond `down`: remove what carries its project label.
		s.t.Logf("down of %s failed (%d), removing by label: %s", s.project, code, errOut.String())
		removeProject(ctx, s.t, s.project)
	}
}

// removeProject removes the containers, volumes and networks compose made
// for project, by compose's project label.
func removeProject(ctx context.Context, t *testing.T, project string) {
	label := "label=com.docker.compose.project=" + project
	for _, kind := range []struct{ list, rm []string }{
		{[]string{"container", "ls", "--all"}, []string{"container", "rm", "-f", "-v"}},
		{[]string{"volume", "ls"}, []string{"volume", "rm", "-f"}},
		{[]string{"network", "ls"}, []string{"network", "rm"}},
	} {
		out, err := exec.CommandContext(ctx, "docker", append(kind.list, "-q", "--filter", label)...).Output()
		if ids := strings.Fields(string(out)); err == nil && len(ids) > 0 {
			if msg, err := exec.CommandContext(ctx, "docker", append(kind.rm, ids...)...).CombinedOutput(); err != nil {
				t.Logf("remove %s: %v: %s", strings.Join(ids, " "), err, msg)
			}
		}
	}
}

// jsonReport parses the --json outcome.
func jsonReport(t *testing.T, r runResult) upReport {
	t.Helper()
	var rep upReport
	envelopeData(t, r.stdout, &rep)
	return rep
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func TestUpAllHealthy(t *testing.T) {
	port := freePort(t)
	s := newStack(t, fmt.Sprintf(`
  redis:
    image: IMAGE
    restart: unless-stopped
    environment: {FAKE_MODE: redis, FAKE_PASSWORD_FILE: /run/secrets/redis_password, FAKE_HEALTHY_AFTER: 1s}
    secrets: [redis_password]
    ports: ["127.0.0.1:%d:6379"]
  app:
    image: IMAGE
    user: "1000:1000"
    environment: {FAKE_SECRET_FILES: /run/secrets/redis_password}
    secrets: [redis_password]
    healthcheck: {disable: true}
  migrate:
    image: IMAGE
    environment: {FAKE_MODE: oneshot}
`, port), fmt.Sprintf(`checks:
  - {kind: redis-auth, service: redis, secret: REDIS_PASSWORD, address: "127.0.0.1:%d"}
`, port), "redis", "app", "migrate")

	r := s.run(context.Background(), s.env(), "up", "--json", "--timeout", "3m")
	if r.code != 0 {
		t.Fatalf("exit %d, want 0", r.code)
	}
	if !strings.Contains(r.stderr, "all 3 services healthy") {
		t.Errorf("no success line")
	}
	rep := jsonReport(t, r)
	if !rep.OK || len(rep.Services) != 3 {
		t.Fatalf("report: ok=%v services=%d", rep.OK, len(rep.Services))
	}
	want := map[string]string{"redis": "healthy", "app": "running (no healthcheck)", "migrate": "finished (exit code 0)"}
	for _, svc := range rep.Services {
		if svc.Detail != want[svc.Name] {
			t.Errorf("%s: %q, want %q", svc.Name, svc.Detail, want[svc.Name])
		}
	}
	var names []string
	for _, c := range rep.Checks {
		if c.Status == checks.Fail {
			t.Errorf("check %s failed: %s", c.ID, c.Detail)
		}
		if strings.HasPrefix(c.ID, "secret-readable") && strings.Contains(c.Detail, "file mode") {
			t.Errorf("the readability check must run inside the container here: %s", c.Detail)
		}
		names = append(names, c.ID)
	}
	if got := strings.Join(names, ","); !strings.Contains(got, "secret-readable.REDIS_PASSWORD") || !strings.Contains(got, "functional.redis-auth") {
		t.Errorf("checks run: %s", got)
	}

	// Running it again on the healthy stack: its own ports are not a conflict.
	if r := s.run(context.Background(), s.env(), "up"); r.code != 0 {
		t.Fatalf("second up: exit %d", r.code)
	}
}

func TestUpUnhealthyFailsAtOnceWithEvidence(t *testing.T) {
	s := newStack(t, `
  broken:
    image: IMAGE
    restart: unless-stopped
    environment: {FAKE_MODE: never-healthy}
`, "", "broken")
	r := s.run(context.Background(), s.env(), "up", "--json", "--timeout", "5m")
	if r.code != 1 {
		t.Fatalf("exit %d, want 1", r.code)
	}
	rep := jsonReport(t, r)
	if rep.TimedOut || len(rep.Diagnoses) != 1 {
		t.Fatalf("timed out=%v diagnoses=%d: the unhealthy service must fail before the global timeout", rep.TimedOut, len(rep.Diagnoses))
	}
	d := rep.Diagnoses[0]
	if d.Reason != "unhealthy" || d.ProbeExit == nil || *d.ProbeExit != 1 || !strings.Contains(d.ProbeOutput, "upstream unavailable") {
		t.Errorf("diagnosis: %+v", d)
	}
	if !strings.Contains(r.stderr, "last probe: exit 1: dependency check failed") || !strings.Contains(r.stderr, "fakesvc starting") {
		t.Errorf("probe output or logs missing from the human report")
	}
}

func TestUpCrashLoopDetected(t *testing.T) {
	s := newStack(t, `
  looping:
    image: IMAGE
    restart: unless-stopped
    environment: {FAKE_MODE: crash}
`, "", "looping")
	r := s.run(context.Background(), s.env(), "up", "--json", "--timeout", "5m")
	if r.code != 1 {
		t.Fatalf("exit %d, want 1", r.code)
	}
	rep := jsonReport(t, r)
	if rep.TimedOut || len(rep.Diagnoses) != 1 || rep.Diagnoses[0].Reason != "restart-loop" {
		t.Fatalf("want a restart-loop diagnosis before the timeout, got timed out=%v %+v", rep.TimedOut, rep.Diagnoses)
	}
	if !strings.Contains(strings.Join(rep.Diagnoses[0].Logs, "\n"), "simulated crash") {
		t.Errorf("the crash message is not among the logs: %q", rep.Diagnoses[0].Logs)
	}
}

const pgService = `
  pg:
    image: IMAGE
    restart: unless-stopped
    environment: {FAKE_MODE: postgres, FAKE_PASSWORD_FILE: /run/secrets/postgres_password, FAKE_DATA_DIR: /data%s}
    secrets: [postgres_password]
    volumes: [pg_data:/data]
    ports: ["127.0.0.1:%d:5432"]
`

func TestUpStaleVolumeRecognised(t *testing.T) {
	port := freePort(t)
	s := newStack(t, fmt.Sprintf(pgService, "", port), "", "pg")
	if r := s.run(context.Background(), s.env(), "up"); r.code != 0 {
		t.Fatalf("first up: exit %d", r.code)
	}
	if r := s.run(context.Background(), s.env(), "down"); r.code != 0 {
		t.Fatalf("down: exit %d", r.code)
	}
	// A new password while the volume keeps the old one. The file's time
	// is set before the volume's: times play no part (observation 1).
	s.setSecret("POSTGRES_PASSWORD", 0o644)
	pw := filepath.Join(s.secrets, "POSTGRES_PASSWORD")
	earlier := time.Now().Add(-24 * time.Hour)
	must(t, os.Chtimes(pw, earlier, earlier))

	// The preflight sees it from the fingerprint `up` recorded: nothing starts.
	r := s.run(context.Background(), s.env(), "up", "--json")
	if r.code != 1 {
		t.Fatalf("exit %d, want 1", r.code)
	}
	rep := jsonReport(t, r)
	if o := preflightOutcome(rep, "volumes.secrets"); o.Status != "fail" || !strings.Contains(o.Detail, "holds another password than the current POSTGRES_PASSWORD") ||
		!strings.Contains(o.Fix, "--recreate-volume "+s.project+"_pg_data") || strings.Contains(o.Detail, "initialised on") {
		t.Fatalf("volumes.secrets: %+v", o)
	}
	if len(rep.Diagnoses) != 0 || !strings.Contains(r.stderr, "nothing was started") {
		t.Fatalf("up went past the preflight: %+v", rep.Diagnoses)
	}

	// Without the record (another install's volume) the preflight cannot
	// know: it warns, postgres fails, and diagnosis recognises the volume.
	must(t, os.Remove(filepath.Join(s.state, "state.json")))
	r = s.run(context.Background(), s.env(), "up", "--json")
	if r.code != 1 {
		t.Fatalf("exit %d, want 1", r.code)
	}
	rep = jsonReport(t, r)
	if o := preflightOutcome(rep, "volumes.secrets"); o.Status != "warn" || !strings.Contains(o.Detail, "unknown whether it holds the current POSTGRES_PASSWORD") {
		t.Fatalf("volumes.secrets without a record: %+v", o)
	}
	if len(rep.Diagnoses) != 1 || rep.Diagnoses[0].Cause != "stale-volume" {
		t.Fatalf("want the stale-volume cause, got %+v", rep.Diagnoses)
	}
	fix := rep.Diagnoses[0].Fix
	if !strings.Contains(fix, "--recreate-volume "+s.project+"_pg_data") || strings.Contains(rep.Diagnoses[0].Explanation, "initialised on") {
		t.Errorf("diagnosis: %+v", rep.Diagnoses[0])
	}

	// The last resort: recreate only that volume (confirmed with --yes),
	// then healthy, and the new volume's password is recorded.
	r = s.run(context.Background(), s.env(), "--yes", "up", "--recreate-volume", "pg_data")
	if r.code != 0 {
		t.Fatalf("up --recreate-volume: exit %d", r.code)
	}
	r = s.run(context.Background(), s.env(), "--dry-run", "up", "--json")
	if o := preflightOutcome(jsonReport(t, r), "volumes.secrets"); o.Status != "ok" || !strings.Contains(o.Detail, "holds the current POSTGRES_PASSWORD") {
		t.Errorf("after --recreate-volume: %+v", o)
	}
}

// preflightOutcome finds one preflight check in up's report.
func preflightOutcome(rep upReport, id string) checks.Outcome {
	for _, o := range rep.Preflight {
		if o.ID == id {
			return o
		}
	}
	return checks.Outcome{}
}

// TestUpStopsBeforeStartOnStaleVolume: a volume recorded with another
// password stops up in the preflight (nothing is started, so no image is
// needed), and doctor shows the same line. The record is made as `up`
// makes it, through volpass.
func TestUpStopsBeforeStartOnStaleVolume(t *testing.T) {
	docker := testenv.NeedCommand(t, "docker")
	testenv.Need(t, exec.Command(docker, "info").Run() == nil, "a running Docker Engine (`docker info` failed)")
	s := newStackNamed(t, "cdbtvol", fmt.Sprintf(pgService, "", freePort(t)), "", "pg")
	vol := s.project + "_pg_data"
	out, err := exec.Command(docker, "volume", "create", vol).CombinedOutput()
	if err != nil {
		t.Fatalf("docker volume create: %v: %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command(docker, "volume", "rm", "-f", vol).Run() })
	engineID, err := exec.Command(docker, "info", "--format", "{{.ID}}").Output()
	must(t, err)
	book, err := volpass.Open(s.state)
	must(t, err)
	must(t, book.Record(volpass.Entry{EngineID: strings.TrimSpace(string(engineID)), Volume: vol, Secret: "POSTGRES_PASSWORD", How: "initialised by cdb-setup up"}, []byte("an-older-password")))

	r := s.run(context.Background(), s.env(), "up", "--json")
	rep := jsonReport(t, r)
	o := preflightOutcome(rep, "volumes.secrets")
	if r.code != 1 || o.Status != "fail" || !strings.Contains(o.Detail, vol) || !strings.Contains(o.Fix, "--recreate-volume "+vol) {
		t.Fatalf("exit %d, volumes.secrets %+v", r.code, o)
	}
	if !strings.Contains(r.stderr, "✗ Preflight failed: nothing was started.") {
		t.Errorf("up did not stop in the preflight")
	}
	if ps, _ := exec.Command(docker, "ps", "-aq", "--filter", "label=com.docker.compose.project="+s.project).Output(); len(bytes.TrimSpace(ps)) > 0 {
		t.Errorf("containers were created: %s", ps)
	}

	// doctor: the same check among the stack lines, with up's command.
	r = s.run(context.Background(), s.env(), "doctor", "--json")
	var doc struct {
		Checks []struct{ ID, Status, Detail, Fix string }
	}
	envelopeData(t, r.stdout, &doc)
	found := false
	for _, c := range doc.Checks {
		if c.ID == "volumes.secrets" {
			found = true
			if c.Status != "fail" || !strings.Contains(c.Fix, "cdb-setup up --repo "+s.repo) || !strings.Contains(c.Fix, "--recreate-volume "+vol) {
				t.Errorf("doctor's volumes.secrets: %+v", c)
			}
		}
	}
	if !found || strings.Contains(r.stderr, "not available in this version") {
		t.Errorf("doctor lacks volumes.secrets:\n%s", r.stderr)
	}

	// The file holds the recorded password again: the check passes.
	must(t, os.WriteFile(filepath.Join(s.secrets, "POSTGRES_PASSWORD"), []byte("an-older-password"), 0o644))
	r = s.run(context.Background(), s.env(), "--dry-run", "up", "--json")
	if o := preflightOutcome(jsonReport(t, r), "volumes.secrets"); o.Status != "ok" || !strings.Contains(o.Detail, "holds the current POSTGRES_PASSWORD") {
		t.Errorf("recorded password restored: %+v", o)
	}
}

// runReal runs cdb-setup on a realstack fixture (real PostgreSQL and Redis).
func runReal(t *testing.T, st *realstack.Stack, args ...string) runResult {
	t.Helper()
	var out, errOut syncBuffer
	io := &IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}
	env := platform.EnvironmentFrom(os.Environ())
	delete(env, "SECRETS_PATH")
	delete(env, "NO_COLOR")
	// This stack's own state folder (volume fingerprints, run lock).
	env["CDB_SETUP_STATE_DIR"] = realState(st)
	code := Main(context.Background(), append([]string{"--repo", st.Repo, "--secrets-path", st.SecretsDir}, args...), io, env)
	r := runResult{code: code, stdout: out.String(), stderr: errOut.String()}
	for name, v := range st.Passwords {
		if strings.Contains(r.stdout+r.stderr, v) {
			t.Errorf("the value of %s appeared in the output", name)
		}
	}
	t.Logf("cdb-setup %s → exit %d\n%s", strings.Join(args, " "), code, r.stderr)
	return r
}

// realState is the state folder of a realstack fixture (inside its repo).
func realState(st *realstack.Stack) string { return filepath.Join(st.Repo, ".cdb-setup-state") }

func failedChecks(rep upReport) []string {
	var failed []string
	for _, c := range rep.Checks {
		if c.Status == checks.Fail {
			failed = append(failed, c.ID+": "+c.Detail)
		}
	}
	return failed
}

// On the real PostgreSQL 15 (SCRAM over TCP) and Redis 7: pg_isready passes
// whatever the password, so only the functional login can tell that the
// volume keeps another one; it is refused with the server's own words.
func TestUpWrongPasswordBehindPassingHealthcheck(t *testing.T) {
	st := realstack.New(t, realstack.Options{Prefix: "cdbtstack-real"})
	r := runReal(t, st, "up", "--json")
	if r.code != 0 {
		t.Fatalf("first up: exit %d", r.code)
	}
	if f := failedChecks(jsonReport(t, r)); len(f) != 0 {
		t.Fatalf("checks failed on a fresh stack: %q", f)
	}
	if r := runReal(t, st, "down"); r.code != 0 {
		t.Fatalf("down: exit %d", r.code)
	}
	st.NewPassword("POSTGRES_PASSWORD")
	// No record of the volume (made by another install): the preflight
	// cannot know (a warning, not ✓); only the functional login can tell.
	must(t, os.Remove(filepath.Join(realState(st), "state.json")))
	r = runReal(t, st, "up", "--json")
	if r.code != 1 {
		t.Fatalf("exit %d, want 1: a healthy stack with a refused password is a failure", r.code)
	}
	failed := failedChecks(jsonReport(t, r))
	if len(failed) != 1 || !strings.Contains(failed[0], "functional.postgres-login") || !strings.Contains(failed[0], "password authentication failed") {
		t.Errorf("failed checks: %q", failed)
	}
}

// Observation 4 of issue 12, through `up`: the first start runs 15 s of init
// SQL on the entrypoint's socket-only server while pg_isready already passes;
// the login check waits for the real server instead of blaming the ports.
func TestUpWaitsForPostgresFirstInitialisation(t *testing.T) {
	st := realstack.New(t, realstack.Options{Prefix: "cdbtstack-real", InitSQL: map[string]string{"02-slow.sql": "SELECT pg_sleep(15);\n"}})
	r := runReal(t, st, "up", "--json")
	if r.code != 0 {
		t.Fatalf("exit %d, want 0; failed checks: %q", r.code, failedChecks(jsonReport(t, r)))
	}
	rep := jsonReport(t, r)
	passed := false
	for _, c := range rep.Checks {
		passed = passed || c.ID == "functional.postgres-login" && c.Status == checks.OK
	}
	if !passed {
		t.Errorf("no passing functional.postgres-login check:\n%s", r.stdout)
	}
	// The case under test happened: up saw postgres ready (and so began the
	// login) before the real server, PID 1 after the entrypoint's exec, was.
	var pg stack.Service
	for _, s := range rep.Services {
		if s.Name == realstack.Postgres {
			pg = s
		}
	}
	logs, err := exec.Command("docker", "logs", pg.ContainerID).CombinedOutput()
	must(t, err)
	var final time.Time
	for _, line := range strings.Split(string(logs), "\n") {
		if strings.Contains(line, "[1] LOG:  database system is ready to accept connections") && len(line) > 27 {
			final, err = time.Parse("2006-01-02 15:04:05.000 MST", line[:27])
			must(t, err)
		}
	}
	if final.IsZero() || pg.DecidedAt.IsZero() || !pg.DecidedAt.Before(final) {
		t.Fatalf("postgres turned ready at %v, the real server at %v: the login check did not start during the init SQL", pg.DecidedAt, final)
	}
}

func TestUpUnreadableSecretRecognised(t *testing.T) {
	s := newStack(t, `
  app:
    image: IMAGE
    user: "1000:1000"
    environment: {FAKE_SECRET_FILES: /run/secrets/redis_password}
    secrets: [redis_password]
`, "", "app")
	s.setSecret("REDIS_PASSWORD", 0o600) // the permission trap: root-owned 0600
	r := s.run(context.Background(), s.env(), "up", "--json", "--timeout", "5m")
	if r.code != 1 {
		t.Fatalf("exit %d, want 1", r.code)
	}
	rep := jsonReport(t, r)
	if len(rep.Diagnoses) != 1 || rep.Diagnoses[0].Cause != "secret-unreadable" {
		t.Fatalf("want the secret-unreadable cause, got %+v", rep.Diagnoses)
	}
	if !strings.Contains(rep.Diagnoses[0].Fix, "chmod 0644") || !strings.Contains(rep.Diagnoses[0].Explanation, "uid 1000:1000") {
		t.Errorf("diagnosis: %+v", rep.Diagnoses[0])
	}
}

func TestUpPortConflictCaughtInPreflight(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	s := newStack(t, fmt.Sprintf(`
  redis:
    image: IMAGE
    ports: ["127.0.0.1:%d:6379"]
`, port), "", "redis")
	r := s.run(context.Background(), s.env(), "up")
	if r.code != 1 {
		t.Fatalf("exit %d, want 1", r.code)
	}
	wantHolder := fmt.Sprintf("(pid %d)", os.Getpid())
	if !strings.Contains(r.stderr, fmt.Sprintf("127.0.0.1:%d (redis) is held by", port)) || !strings.Contains(r.stderr, wantHolder) {
		t.Errorf("the holder (this test process, %s) is not named", wantHolder)
	}
	if !strings.Contains(r.stderr, "nothing was started") {
		t.Errorf("preflight failure must say nothing was started")
	}
}

func TestUpDockerUnreachable(t *testing.T) {
	s := newStack(t, `
  redis:
    image: IMAGE
`, "", "redis")
	env := s.env()
	env["DOCKER_HOST"] = "unix://" + filepath.Join(testenv.TempDir(t), "no-docker.sock")
	r := s.run(context.Background(), env, "up")
	if r.code != 3 {
		t.Fatalf("exit %d, want 3 (environment missing)", r.code)
	}
	if !strings.Contains(r.stderr, "Docker is not reachable at unix://") || !strings.Contains(r.stderr, "DOCKER_HOST") {
		t.Errorf("the error must name the endpoint and how it was chosen")
	}
}

func TestUpInterruptedLeavesStack(t *testing.T) {
	s := newStack(t, `
  slow:
    image: IMAGE
    restart: unless-stopped
    environment: {FAKE_HEALTHY_AFTER: 1h}
`, "", "slow")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errOut syncBuffer
	io := &IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}
	done := make(chan int, 1)
	go func() {
		done <- Main(ctx, []string{"--repo", s.repo, "--secrets-path", s.secrets, "up", "--timeout", "10m"}, io, s.env())
	}()
	// Interrupt once the container runs (what the user sees), not after a
	// fixed sleep.
	deadline := time.After(3 * time.Minute)
	for !strings.Contains(errOut.String(), "slow: running") {
		select {
		case <-deadline:
			t.Fatalf("the service never started:\n%s", errOut.String())
		case <-time.After(50 * time.Millisecond):
		}
	}
	cancel()
	code := <-done
	t.Logf("%s", errOut.String())
	if code != 130 {
		t.Fatalf("exit %d, want 130", code)
	}
	if !strings.Contains(errOut.String(), "the stack was left as it is") {
		t.Errorf("the interruption must say the stack was left as it is")
	}
	st, err := exec.Command("docker", "inspect", "-f", "{{.State.Status}}", s.project+"-slow-1").Output()
	if err != nil || strings.TrimSpace(string(st)) != "running" {
		t.Errorf("the container should still run after the interrupt: %q %v", st, err)
	}
}

func TestDownVolumesAsksFirst(t *testing.T) {
	port := freePort(t)
	s := newStack(t, fmt.Sprintf(pgService, "", port), "", "pg")
	if r := s.run(context.Background(), s.env(), "up"); r.code != 0 {
		t.Fatalf("up: exit %d", r.code)
	}
	// No terminal and no --yes: refuse, delete nothing, name the flag.
	r := s.run(context.Background(), s.env(), "down", "--volumes")
	if r.code != 3 || !strings.Contains(r.stderr, "--yes") || !strings.Contains(r.stderr, s.project+"_pg_data") {
		t.Fatalf("exit %d; want 3 with the volume listed and --yes named", r.code)
	}
	if err := exec.Command("docker", "volume", "inspect", s.project+"_pg_data").Run(); err != nil {
		t.Fatalf("the volume was deleted without confirmation")
	}
	r = s.run(context.Background(), s.env(), "down")
	if r.code != 0 || !strings.Contains(r.stderr, "volumes kept") {
		t.Fatalf("down: exit %d", r.code)
	}
	if err := exec.Command("docker", "volume", "inspect", s.project+"_pg_data").Run(); err != nil {
		t.Fatalf("plain down deleted the volume")
	}
}

func TestUpComposeFailureDiagnosed(t *testing.T) {
	missing := filepath.Join(testenv.TempDir(t), "schema.sql")
	s := newStack(t, fmt.Sprintf(`
  db:
    image: IMAGE
    volumes:
      - type: bind
        source: %s
        target: /schema.sql
        bind: {create_host_path: false}
  other:
    image: IMAGE
    healthcheck: {disable: true}
`, missing), "", "db", "other")
	r := s.run(context.Background(), s.env(), "up", "--json", "--timeout", "3m")
	if r.code != 1 {
		t.Fatalf("exit %d, want 1", r.code)
	}
	rep := jsonReport(t, r)
	if rep.ComposeError == "" || len(rep.Diagnoses) != 1 || rep.Diagnoses[0].Service != "db" || rep.Diagnoses[0].Cause != "mount-missing" {
		t.Fatalf("want one mount-missing diagnosis for db, got compose error %q, %+v", rep.ComposeError, rep.Diagnoses)
	}
	if !strings.Contains(rep.Diagnoses[0].Fix, missing) {
		t.Errorf("fix: %s", rep.Diagnoses[0].Fix)
	}
}

func TestUpSecretUnreadableAfterHealthyIsAFailure(t *testing.T) {
	// The service reads its secret only later (many apps do): it turns
	// healthy, and only the post-start check as uid 1000 finds the trap.
	s := newStack(t, `
  lazy:
    image: IMAGE
    user: "1000:1000"
    secrets: [postgres_password]
`, "", "lazy")
	s.setSecret("POSTGRES_PASSWORD", 0o600)
	r := s.run(context.Background(), s.env(), "up", "--json", "--timeout", "3m")
	if r.code != 1 {
		t.Fatalf("exit %d, want 1", r.code)
	}
	rep := jsonReport(t, r)
	if len(rep.Checks) != 1 || rep.Checks[0].Status != checks.Fail || !strings.Contains(rep.Checks[0].Detail, "cannot read /run/secrets/postgres_password as user 1000:1000") || !strings.Contains(rep.Checks[0].Fix, "chmod 0644") {
		t.Fatalf("checks: %+v", rep.Checks)
	}
}

func TestUpTimeoutIsAFailure(t *testing.T) {
	s := newStack(t, `
  slow:
    image: IMAGE
    environment: {FAKE_HEALTHY_AFTER: 1h}
    # Failing probes inside the start period do not count: it stays
    # "starting" until the global timeout.
    healthcheck: {test: ["CMD", "/svc", "probe"], interval: 1s, start_period: 1h}
`, "", "slow")
	r := s.run(context.Background(), s.env(), "up", "--json", "--timeout", "8s")
	if r.code != 1 {
		t.Fatalf("exit %d, want 1: a timeout is a failure, never a warning", r.code)
	}
	rep := jsonReport(t, r)
	if !rep.TimedOut || len(rep.Diagnoses) != 1 || rep.Diagnoses[0].Reason != "timeout" || !strings.Contains(rep.Diagnoses[0].Fix, "--timeout") {
		t.Fatalf("timed out=%v diagnoses=%+v", rep.TimedOut, rep.Diagnoses)
	}
}

func TestUpGrafanaPasswordNeverExported(t *testing.T) {
	// docs/up.md, password-and-file: the compose file feeds GF_SECURITY_ADMIN_PASSWORD
	// from ${GRAFANA_PASSWORD}. A user who exported it would make Grafana see
	// both it and __FILE and refuse to start; cdb-setup does not pass it on.
	s := newStack(t, `
  grafana:
    image: IMAGE
    restart: unless-stopped
    environment:
      GF_SECURITY_ADMIN_PASSWORD: ${GRAFANA_PASSWORD:-}
      GF_SECURITY_ADMIN_PASSWORD__FILE: /run/secrets/redis_password
    secrets: [redis_password]
`, "", "grafana")
	env := s.env()
	env["GRAFANA_PASSWORD"] = "exported-by-an-old-script"
	if r := s.run(context.Background(), env, "up", "--timeout", "3m"); r.code != 0 {
		t.Fatalf("exit %d: GRAFANA_PASSWORD reached compose", r.code)
	}
}

func TestUpGrafanaPasswordAndFileRecognised(t *testing.T) {
	s := newStack(t, `
  grafana:
    image: IMAGE
    restart: unless-stopped
    environment:
      GF_SECURITY_ADMIN_PASSWORD: set-in-the-compose-file
      GF_SECURITY_ADMIN_PASSWORD__FILE: /run/secrets/redis_password
    secrets: [redis_password]
`, "", "grafana")
	r := s.run(context.Background(), s.env(), "up", "--json", "--timeout", "3m")
	if r.code != 1 {
		t.Fatalf("exit %d, want 1", r.code)
	}
	rep := jsonReport(t, r)
	if len(rep.Diagnoses) != 1 || rep.Diagnoses[0].Cause != "password-and-file" || !strings.Contains(rep.Diagnoses[0].Fix, "remove GF_SECURITY_ADMIN_PASSWORD") {
		t.Fatalf("diagnoses: %+v", rep.Diagnoses)
	}
}

// TestNoInputNeverDeletesVolumes: --no-input is not --yes. `down --volumes
// --no-input` and `up --recreate-volume X --no-input` exit 3 naming --yes
// and leave the real volume alone; only --yes deletes it.
func TestNoInputNeverDeletesVolumes(t *testing.T) {
	port := freePort(t)
	s := newStack(t, fmt.Sprintf(pgService, "", port), "", "pg")
	vol := s.project + "_pg_data"
	out, err := exec.Command("docker", "volume", "create", "--label", "com.docker.compose.project="+s.project,
		"--label", "com.docker.compose.volume=pg_data", "--label", "com.docker.compose.version=2.0.0", vol).CombinedOutput()
	if err != nil {
		t.Fatalf("docker volume create: %v: %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("docker", "volume", "rm", "-f", vol).Run() })
	created := func() string {
		out, err := exec.Command("docker", "volume", "inspect", "--format", "{{.CreatedAt}}", vol).Output()
		if err != nil {
			t.Fatalf("the volume %s is gone: %v", vol, err)
		}
		return strings.TrimSpace(string(out))
	}
	first := created()

	for _, args := range [][]string{
		{"--no-input", "down", "--volumes"},
		{"--no-input", "up", "--recreate-volume", "pg_data"},
		{"up", "--recreate-volume", "pg_data", "--json"}, // --json never prompts either
	} {
		r := s.run(context.Background(), s.env(), args...)
		if r.code != 3 || !strings.Contains(r.stderr, "fix: pass --yes to confirm") {
			t.Errorf("%v: exit %d, want 3 naming --yes", args, r.code)
		}
		if created() != first {
			t.Fatalf("%v: the volume was recreated without --yes", args)
		}
	}
	env := s.env()
	env["CDB_SETUP_NO_INPUT"] = "1"
	if r := s.run(context.Background(), env, "down", "--volumes"); r.code != 3 {
		t.Errorf("CDB_SETUP_NO_INPUT: exit %d, want 3", r.code)
	}
	created()

	// --yes confirms: the volume is deleted and made anew by up.
	r := s.run(context.Background(), s.env(), "--yes", "up", "--recreate-volume", "pg_data")
	if r.code != 0 || !strings.Contains(r.stderr, "✓ deleted volume "+vol) {
		t.Fatalf("--yes up --recreate-volume: exit %d", r.code)
	}
}
