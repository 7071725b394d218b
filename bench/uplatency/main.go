// Command uplatency measures how fast `cdb-setup up` reports the outcome of
// a stack, against `docker compose up --wait` and a 5 s polling loop like
// stack_up.ps1's. Run it through bench/up-latency.sh, which builds
// everything it needs.
//
// Times come from the Engine's own event timestamps (the transition) and
// the host clock when the tool exits: the Engine runs on this host, so both
// are the same clock.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/docker/docker/api/types/events"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/client"
)

type config struct {
	repo, secrets, cdbSetup, compose, project string
	targets                                   []string
	rounds, crashRounds                       int
}

func main() {
	var c config
	var targets string
	flag.StringVar(&c.repo, "repo", "", "a copy of examples/demo with the bench profiles")
	flag.StringVar(&c.secrets, "secrets", "", "secrets folder")
	flag.StringVar(&c.cdbSetup, "cdb-setup", "", "cdb-setup binary")
	flag.StringVar(&c.compose, "compose", "", "compose v2 binary")
	flag.StringVar(&c.project, "project", "cdbtbench", "compose project name")
	flag.StringVar(&targets, "targets", "demo_redis,demo_postgres,demo_grafana,demo_app", "services to wait for")
	flag.IntVar(&c.rounds, "rounds", 5, "rounds of the healthy-stack comparison")
	flag.IntVar(&c.crashRounds, "crash-rounds", 3, "rounds of the crash-loop comparison")
	flag.Parse()
	c.targets = strings.Split(targets, ",")
	cli, err := client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation())
	if err != nil {
		fail(err)
	}
	b := &bench{c: c, cli: cli}

	// (a) detection latency on a healthy stack, alternating the tools.
	lat := map[string][]time.Duration{}
	for i := 0; i < c.rounds; i++ {
		for _, tool := range []string{"cdb-setup", "compose --wait"} {
			d, err := b.healthyRound(tool)
			if err != nil {
				b.down()
				fail(fmt.Errorf("round %d %s: %w", i+1, tool, err))
			}
			fmt.Fprintf(os.Stderr, "healthy round %d %-15s latency %s\n", i+1, tool, d.Round(time.Millisecond))
			lat[tool] = append(lat[tool], d)
		}
	}
	// (b) time to report a crash-looping service.
	crash := map[string][]time.Duration{}
	for i := 0; i < c.crashRounds; i++ {
		for _, tool := range []string{"cdb-setup", "compose --wait", "5 s poll"} {
			d, err := b.crashRound(tool)
			if err != nil {
				b.down()
				fail(fmt.Errorf("crash round %d %s: %w", i+1, tool, err))
			}
			fmt.Fprintf(os.Stderr, "crash round %d %-15s report after %s\n", i+1, tool, d.Round(time.Millisecond))
			crash[tool] = append(crash[tool], d)
		}
	}
	b.down()

	mc, mw := median(lat["cdb-setup"]), median(lat["compose --wait"])
	fmt.Printf("## (a) detection latency: last service ready → tool exits (%d rounds, alternating)\n\n", c.rounds)
	fmt.Printf("| tool | median | all |\n|---|---|---|\n")
	for _, t := range []string{"cdb-setup", "compose --wait"} {
		fmt.Printf("| %s | %s | %s |\n", t, ms(median(lat[t])), list(lat[t]))
	}
	fmt.Printf("\nratio cdb-setup / compose --wait: %.2f\n\n", float64(mc)/float64(mw))
	cc, cw, cp := median(crash["cdb-setup"]), median(crash["compose --wait"]), median(crash["5 s poll"])
	fmt.Printf("## (b) crash loop: first crash → tool reports it (%d rounds, alternating)\n\n", c.crashRounds)
	fmt.Printf("| tool | median | all |\n|---|---|---|\n")
	for _, t := range []string{"cdb-setup", "compose --wait", "5 s poll"} {
		fmt.Printf("| %s | %s | %s |\n", t, ms(median(crash[t])), list(crash[t]))
	}
	fmt.Printf("\nratios: cdb-setup / compose --wait %.2f, cdb-setup / 5 s poll %.2f\n", float64(cc)/float64(cw), float64(cc)/float64(cp))
}

type bench struct {
	c       config
	cli     *client.Client
	lastOut string
	lastOK  bool
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "uplatency:", err)
	os.Exit(1)
}

// recorder collects the project's container events while a tool runs.
type recorder struct {
	mu     sync.Mutex
	events []events.Message
	cancel context.CancelFunc
	done   chan struct{}
}

func (b *bench) record() *recorder {
	ctx, cancel := context.WithCancel(context.Background())
	r := &recorder{cancel: cancel, done: make(chan struct{})}
	msgs, errs := b.cli.Events(ctx, events.ListOptions{Filters: filters.NewArgs(
		filters.Arg("type", "container"), filters.Arg("label", "com.docker.compose.project="+b.c.project))})
	go func() {
		defer close(r.done)
		for {
			select {
			case m := <-msgs:
				r.mu.Lock()
				r.events = append(r.events, m)
				r.mu.Unlock()
			case <-errs:
				return
			}
		}
	}()
	// The subscription is asynchronous; a ping round-trip after it makes
	// sure the daemon registered it before the tool starts.
	time.Sleep(200 * time.Millisecond)
	return r
}

func (r *recorder) stop() []events.Message {
	time.Sleep(300 * time.Millisecond) // let in-flight events arrive
	r.cancel()
	<-r.done
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.events
}

func (b *bench) composeArgs(profile string, sub ...string) []string {
	args := []string{"-f", filepath.Join(b.c.repo, "compose/base.yml"), "-f", filepath.Join(b.c.repo, "compose/dev.yml")}
	if profile == "crash" {
		args = append(args, "-f", filepath.Join(b.c.repo, "compose/crash.yml"))
	}
	return append(append(args, "-p", b.c.project), sub...)
}

func (b *bench) composeEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.Contains(strings.ToUpper(strings.SplitN(kv, "=", 2)[0]), "PASSWORD") {
			env = append(env, kv)
		}
	}
	return append(env, "SECRETS_PATH="+b.c.secrets)
}

func (b *bench) down() {
	cmd := exec.Command(b.c.compose, b.composeArgs("crash", "down", "-v", "--remove-orphans", "-t", "1")...)
	cmd.Env = b.composeEnv()
	_ = cmd.Run()
}

// run starts a tool and returns when it exits (the report moment).
func (b *bench) run(tool, profile string) (time.Time, error) {
	var cmd *exec.Cmd
	switch tool {
	case "cdb-setup":
		args := []string{"--repo", b.c.repo, "--secrets-path", b.c.secrets, "up", "--project-name", b.c.project}
		if profile != "" {
			args = append(args, "--profile", profile)
		}
		cmd = exec.Command(b.c.cdbSetup, args...)
		cmd.Env = append(os.Environ(), "CDB_SETUP_COMPOSE="+b.c.compose)
	case "compose --wait":
		cmd = exec.Command(b.c.compose, b.composeArgs(profile, append([]string{"up", "-d", "--wait", "--wait-timeout", "120"}, b.c.targets...)...)...)
		cmd.Env = b.composeEnv()
	case "5 s poll":
		return b.poll(profile)
	}
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run() // success or failure: either is the tool's report
	end := time.Now()
	b.lastOut = out.String()
	b.lastOK = err == nil
	return end, nil
}

// poll is stack_up.ps1's loop: `up -d`, then `compose ps --format json`
// every 5 s until a target is not running (it would report it) or all are
// healthy.
func (b *bench) poll(profile string) (time.Time, error) {
	up := exec.Command(b.c.compose, b.composeArgs(profile, append([]string{"up", "-d"}, b.c.targets...)...)...)
	up.Env = b.composeEnv()
	if out, err := up.CombinedOutput(); err != nil {
		return time.Time{}, fmt.Errorf("up -d: %v: %s", err, out)
	}
	for start := time.Now(); time.Since(start) < 120*time.Second; time.Sleep(5 * time.Second) {
		ps := exec.Command(b.c.compose, b.composeArgs(profile, "ps", "-a", "--format", "json")...)
		ps.Env = b.composeEnv()
		out, err := ps.Output()
		if err != nil {
			continue
		}
		for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			var row struct{ Service, State string }
			if json.Unmarshal([]byte(line), &row) == nil && (row.State == "restarting" || row.State == "exited") {
				return time.Now(), nil
			}
		}
	}
	return time.Now(), nil
}

func (b *bench) healthyRound(tool string) (time.Duration, error) {
	b.down()
	rec := b.record()
	end, err := b.run(tool, "")
	evs := rec.stop()
	if err != nil {
		return 0, err
	}
	if !b.lastOK {
		return 0, fmt.Errorf("%s failed on the healthy stack:\n%s", tool, b.lastOut)
	}
	last := time.Time{}
	for _, svc := range b.c.targets {
		t, ok := firstOf(evs, svc, func(m events.Message) bool { return string(m.Action) == "health_status: healthy" })
		if !ok {
			return 0, fmt.Errorf("%s never turned healthy; the tool said:\n%s", svc, b.lastOut)
		}
		if t.After(last) {
			last = t
		}
	}
	return end.Sub(last), nil
}

func (b *bench) crashRound(tool string) (time.Duration, error) {
	b.down()
	rec := b.record()
	end, err := b.run(tool, "crash")
	evs := rec.stop()
	if err != nil {
		return 0, err
	}
	if b.lastOK && tool != "5 s poll" {
		return 0, fmt.Errorf("%s succeeded on the crash-looping stack:\n%s", tool, b.lastOut)
	}
	t, ok := firstOf(evs, "demo_app", func(m events.Message) bool { return string(m.Action) == "die" })
	if !ok {
		return 0, fmt.Errorf("demo_app never crashed")
	}
	return end.Sub(t), nil
}

func firstOf(evs []events.Message, svc string, match func(events.Message) bool) (time.Time, bool) {
	for _, m := range evs {
		if m.Actor.Attributes["com.docker.compose.service"] == svc && match(m) {
			return time.Unix(0, m.TimeNano), true
		}
	}
	return time.Time{}, false
}

func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func ms(d time.Duration) string { return strconv.FormatInt(d.Milliseconds(), 10) + " ms" }

func list(ds []time.Duration) string {
	var parts []string
	for _, d := range ds {
		parts = append(parts, strconv.FormatInt(d.Milliseconds(), 10))
	}
	return strings.Join(parts, ", ") + " ms"
}
