package stack

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/events"
	"github.com/docker/docker/api/types/filters"
)

// Compose's labels on every container it creates.
const (
	LabelProject = "com.docker.compose.project"
	LabelService = "com.docker.compose.service"
	LabelOneOff  = "com.docker.compose.oneoff"
	// LabelConfigFiles lists the -f files (comma-separated, as given) the
	// container was created from.
	LabelConfigFiles = "com.docker.compose.project.config_files"
)

// EngineAPI is the part of the Engine client the waiter uses (the real
// *client.Client satisfies it).
type EngineAPI interface {
	Events(ctx context.Context, options events.ListOptions) (<-chan events.Message, <-chan error)
	ContainerList(ctx context.Context, options container.ListOptions) ([]container.Summary, error)
	ContainerInspect(ctx context.Context, containerID string) (container.InspectResponse, error)
}

// WaitOptions say what to wait for.
type WaitOptions struct {
	Project  string
	Services []string
	// Timeout is the global limit from the start of the wait; 0 means each
	// container gets its healthcheck's Budget from its creation.
	Timeout time.Duration
	// ComposeDone delivers compose up's result. While compose runs (building,
	// pulling, waiting on depends_on) services without a container yet are
	// not failed; once it is done they are.
	ComposeDone <-chan error
	// OnSubscribed is called once the event subscription is made and the
	// existing containers are read: the moment to start compose.
	OnSubscribed func()
	// OnChange is called with a copy of every service after each change, and
	// once a second so elapsed times advance.
	OnChange func([]Service)
}

// WaitResult is how the wait ended.
type WaitResult struct {
	Services []Service `json:"services"`
	// AllReady: every service is ready.
	AllReady bool `json:"all_ready"`
	TimedOut bool `json:"timed_out,omitempty"`
	// ComposeErr is compose up's failure, if it failed.
	ComposeErr error `json:"-"`
	// LastReadyAt is the Engine's time of the last transition to ready.
	LastReadyAt time.Time `json:"last_ready_at,omitzero"`
	Started     time.Time `json:"started"`
	Ended       time.Time `json:"ended"`
}

// Failed lists the services that failed.
func (r WaitResult) Failed() []Service {
	var out []Service
	for _, s := range r.Services {
		if s.Outcome != Ready {
			out = append(out, s)
		}
	}
	return out
}

// WaitHealthy waits until every service is ready, or one fails, or time is
// up. It subscribes to the project's container events before listing and
// inspecting, so no transition between the two is missed; events are
// deduplicated, so replayed ones are harmless. A failing service ends the
// wait at once (with the others' state as it stands): `restart:
// unless-stopped` would otherwise hide a crash until the timeout.
func WaitHealthy(ctx context.Context, api EngineAPI, opts WaitOptions) (WaitResult, error) {
	started := time.Now()
	res := WaitResult{Started: started}
	w := &waiter{api: api, opts: opts, services: map[string]*Service{}, created: map[string]time.Time{}, budgets: map[string]time.Duration{}}
	for _, name := range opts.Services {
		w.services[name] = NewService(name)
		w.order = append(w.order, name)
	}

	evCtx, cancelEvents := context.WithCancel(ctx)
	defer cancelEvents()
	f := filters.NewArgs(filters.Arg("type", string(events.ContainerEventType)), filters.Arg("label", LabelProject+"="+opts.Project))
	// Since a little in the past: the Engine replays what happened between
	// now and the subscription reaching it (it is asynchronous), and the
	// dedup below drops what the listing already covered.
	since := strconv.FormatInt(started.Add(-2*time.Second).Unix(), 10)
	msgs, errs := api.Events(evCtx, events.ListOptions{Filters: f, Since: since})

	list, err := ProjectContainers(ctx, api, opts.Project)
	if err != nil {
		return res, fmt.Errorf("list containers of project %s: %w", opts.Project, err)
	}
	for _, c := range list {
		if c.Labels[LabelOneOff] == "True" {
			continue
		}
		if s := w.services[c.Labels[LabelService]]; s != nil {
			// Several containers can exist mid-recreate: the newest wins.
			if prev, ok := w.created[s.Name]; ok && prev.Unix() > c.Created {
				continue
			}
			w.created[s.Name] = time.Unix(c.Created, 0)
			w.inspect(ctx, s, c.ID)
		}
	}
	w.changed()
	if opts.OnSubscribed != nil {
		opts.OnSubscribed()
	}

	composeDone := opts.ComposeDone
	var deadline <-chan time.Time
	if opts.Timeout > 0 {
		t := time.NewTimer(opts.Timeout)
		defer t.Stop()
		deadline = t.C
	}
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	seen := map[string]bool{}

	for {
		// Success waits for compose to finish (it may still recreate a
		// container that looks healthy now); a failure ends the wait at once.
		if failed, all := w.decided(); failed || all && composeDone == nil {
			break
		}
		select {
		case <-ctx.Done():
			res = w.result(res)
			return res, ctx.Err()
		case err := <-errs:
			if ctx.Err() != nil {
				res = w.result(res)
				return res, ctx.Err()
			}
			res = w.result(res)
			return res, fmt.Errorf("the Engine's event stream ended: %w", err)
		case err := <-composeDone:
			composeDone = nil
			res.ComposeErr = err
			if err != nil {
				res = w.result(res)
				return res, nil
			}
			// Containers compose just created may not have sent events yet
			// (or we joined after): list once more so nothing is missed.
			w.relist(ctx)
			for _, name := range w.order {
				if s := w.services[name]; s.ContainerID == "" {
					s.Outcome, s.Reason, s.DecidedAt = Failed, ReasonNotCreated, time.Now()
					s.Detail = "compose finished without creating a container for it"
				}
			}
		case m := <-msgs:
			key := fmt.Sprintf("%d/%s/%s", m.TimeNano, m.Actor.ID, m.Action)
			if seen[key] {
				continue
			}
			seen[key] = true
			if time.Unix(0, m.TimeNano).Before(started) && !w.tracked(m.Actor.ID) {
				// Replayed from before the wait (the Since margin): about a
				// container the listing did not find, i.e. one already gone.
				continue
			}
			w.handle(ctx, m)
		case <-deadline:
			res.TimedOut = true
			w.timeoutAll(fmt.Sprintf("not ready within --timeout %s", opts.Timeout))
		case now := <-tick.C:
			if opts.Timeout == 0 {
				w.checkBudgets(now)
			}
			w.changed()
		}
		if res.TimedOut {
			break
		}
	}
	res = w.result(res)
	for _, s := range res.Services {
		if s.Reason == ReasonTimeout {
			res.TimedOut = true
		}
	}
	return res, nil
}

type waiter struct {
	api      EngineAPI
	opts     WaitOptions
	services map[string]*Service
	order    []string
	created  map[string]time.Time
	budgets  map[string]time.Duration
}

func (w *waiter) handle(ctx context.Context, m events.Message) {
	s := w.services[m.Actor.Attributes[LabelService]]
	if s == nil || m.Actor.Attributes[LabelOneOff] == "True" {
		return
	}
	action := string(m.Action)
	e := Event{Time: time.Unix(0, m.TimeNano), ContainerID: m.Actor.ID}
	switch {
	case strings.HasPrefix(action, "health_status"):
		e.Action = "health_status"
		e.Health = strings.TrimSpace(strings.TrimPrefix(action, "health_status:"))
	case action == "create", action == "start", action == "die", action == "oom", action == "restart", action == "destroy":
		e.Action = action
		if action == "die" {
			e.ExitCode, _ = strconv.Atoi(m.Actor.Attributes["exitCode"])
		}
		if action == "create" {
			w.created[s.Name] = e.Time
			delete(w.budgets, s.Name)
		}
	default:
		return // attach, exec_*, kill, stop, ...: the transitions above carry the meaning
	}
	before := *s
	s.ApplyEvent(e)
	// Fast path: when this event completed the wait, answer now; an inspect
	// would only add latency. Otherwise inspect for the evidence (probe
	// output, failing streak, restart count, restart policy).
	if failed, all := w.decided(); !failed && !all && e.Action != "destroy" && e.ContainerID == s.ContainerID {
		w.inspect(ctx, s, e.ContainerID)
	} else if s.Outcome == Failed {
		w.inspect(ctx, s, e.ContainerID)
	}
	if s.Outcome != before.Outcome || s.State != before.State || s.Health != before.Health || s.LastProbe != before.LastProbe {
		w.changed()
	}
}

func (w *waiter) inspect(ctx context.Context, s *Service, id string) {
	ictx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	ci, err := w.api.ContainerInspect(ictx, id)
	if err != nil {
		return // removed meanwhile: the destroy/create events say what happened
	}
	s.ApplySnapshot(snapshotOf(ci), time.Now())
	if _, ok := w.budgets[s.Name]; !ok {
		w.budgets[s.Name] = Budget(healthcheckOf(ci))
		if _, ok := w.created[s.Name]; !ok {
			if t, err := time.Parse(time.RFC3339Nano, ci.Created); err == nil {
				w.created[s.Name] = t
			}
		}
	}
}

func (w *waiter) tracked(id string) bool {
	for _, s := range w.services {
		if s.ContainerID == id {
			return true
		}
	}
	return false
}

func (w *waiter) relist(ctx context.Context) {
	list, err := ProjectContainers(ctx, w.api, w.opts.Project)
	if err != nil {
		return
	}
	for _, c := range list {
		if s := w.services[c.Labels[LabelService]]; s != nil && c.Labels[LabelOneOff] != "True" && (s.ContainerID == "" || s.ContainerID == c.ID) {
			w.inspect(ctx, s, c.ID)
		}
	}
	w.changed()
}

// decided reports whether any service failed and whether all are ready.
func (w *waiter) decided() (failed, all bool) {
	all = true
	for _, name := range w.order {
		switch w.services[name].Outcome {
		case Failed:
			return true, false
		case Waiting:
			all = false
		}
	}
	return false, all
}

func (w *waiter) checkBudgets(now time.Time) {
	for _, name := range w.order {
		s := w.services[name]
		b, ok := w.budgets[name]
		c, cok := w.created[name]
		if s.Outcome != Waiting || !ok || !cok {
			continue
		}
		from, since := budgetStart(c, s.StartedAt)
		if now.Sub(from) > b {
			s.Outcome, s.Reason, s.DecidedAt = Failed, ReasonTimeout, now
			s.Detail = fmt.Sprintf("not ready %s after its container was %s (its healthcheck allows %s)", now.Sub(from).Round(time.Second), since, b.Round(time.Second))
		}
	}
}

// budgetStart is when a container's health budget starts: its latest
// start, or its creation when it has not started since. The Engine resets a
// container's health at each start, and compose starts an existing
// container again without recreating it (a finished one-shot such as a
// migration runs again on every `up`): counted from the creation, a
// one-shot created a minute ago was failed while its second run was still
// finishing.
func budgetStart(created, started time.Time) (time.Time, string) {
	if started.After(created) {
		return started, "started"
	}
	return created, "created"
}

func (w *waiter) timeoutAll(detail string) {
	now := time.Now()
	for _, name := range w.order {
		s := w.services[name]
		if s.Outcome == Waiting {
			s.Outcome, s.Reason, s.Detail, s.DecidedAt = Failed, ReasonTimeout, detail, now
		}
	}
}

func (w *waiter) snapshot() []Service {
	out := make([]Service, 0, len(w.order))
	for _, name := range w.order {
		out = append(out, *w.services[name])
	}
	return out
}

func (w *waiter) changed() {
	if w.opts.OnChange != nil {
		w.opts.OnChange(w.snapshot())
	}
}

func (w *waiter) result(res WaitResult) WaitResult {
	res.Services = w.snapshot()
	res.Ended = time.Now()
	res.AllReady = len(res.Services) > 0
	for _, s := range res.Services {
		if s.Outcome != Ready {
			res.AllReady = false
		}
		if s.Outcome == Ready && s.DecidedAt.After(res.LastReadyAt) {
			res.LastReadyAt = s.DecidedAt
		}
	}
	return res
}

// FailNotStarted marks, after compose failed, the services it never
// created or never started. Where compose's error lines name some of them
// (" Container cdb-cdb_redis-1  Error response from daemon: ..."), only
// those are blamed; the others were merely not reached.
func FailNotStarted(res *WaitResult, composeOutput string) {
	var errLines []string
	for _, l := range strings.Split(composeOutput, "\n") {
		if ll := strings.ToLower(l); strings.Contains(ll, "error") || strings.Contains(ll, "failed") {
			errLines = append(errLines, l)
		}
	}
	named := func(svc string) bool {
		for _, l := range errLines {
			if strings.Contains(l, "-"+svc+"-") || strings.Contains(l, " "+svc+" ") || strings.Contains(l, "/"+svc+"-") || strings.Contains(l, " "+svc+"\t") {
				return true
			}
		}
		return false
	}
	var idx []int
	blamed := 0
	for i := range res.Services {
		s := &res.Services[i]
		if s.Outcome == Waiting && (s.ContainerID == "" || s.State == "created") {
			idx = append(idx, i)
			if named(s.Name) {
				blamed++
			}
		}
	}
	for _, i := range idx {
		s := &res.Services[i]
		s.Outcome, s.Reason = Failed, ReasonNotCreated
		if blamed == 0 || named(s.Name) {
			s.Detail = "compose could not create or start it"
		} else {
			s.Detail = "not started: compose stopped at another service's error"
			s.Reason = ReasonNotReached
		}
	}
}

func snapshotOf(ci container.InspectResponse) Snapshot {
	sn := Snapshot{ContainerID: ci.ID, RestartCount: ci.RestartCount}
	if ci.State != nil {
		sn.State = string(ci.State.Status)
		sn.ExitCode = ci.State.ExitCode
		sn.OOMKilled = ci.State.OOMKilled
		sn.StartedAt = parseTime(ci.State.StartedAt)
		sn.FinishedAt = parseTime(ci.State.FinishedAt)
		if h := ci.State.Health; h != nil {
			sn.Health = string(h.Status)
			sn.FailingStreak = h.FailingStreak
			if n := len(h.Log); n > 0 && h.Log[n-1] != nil {
				sn.HasProbe = true
				sn.LastProbe = strings.TrimSpace(h.Log[n-1].Output)
				sn.LastProbeExit = h.Log[n-1].ExitCode
			}
		}
	}
	if ci.HostConfig != nil {
		sn.RestartPolicy = string(ci.HostConfig.RestartPolicy.Name)
	}
	sn.HasHealthcheck = healthcheckOf(ci).Present
	return sn
}

func healthcheckOf(ci container.InspectResponse) Healthcheck {
	if ci.Config == nil || ci.Config.Healthcheck == nil {
		return Healthcheck{}
	}
	hc := ci.Config.Healthcheck
	if len(hc.Test) == 0 || hc.Test[0] == "NONE" {
		return Healthcheck{}
	}
	return Healthcheck{Present: true, Interval: hc.Interval, Timeout: hc.Timeout, StartPeriod: hc.StartPeriod, Retries: hc.Retries}
}

func parseTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil || t.Year() < 2000 {
		return time.Time{}
	}
	return t
}

// ErrInterrupted is returned (wrapped) when the user interrupted the wait.
var ErrInterrupted = errors.New("interrupted")
