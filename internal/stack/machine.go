package stack

import (
	"fmt"
	"time"
)

// Outcome is where one service stands in a wait.
type Outcome string

const (
	Waiting Outcome = "waiting" // not decided yet
	Ready   Outcome = "ready"   // healthy, running without a healthcheck, or a one-shot that exited 0
	Failed  Outcome = "failed"  // Reason says why; Diagnose adds the evidence
)

// Failure reasons (machine-readable, in --json).
const (
	ReasonUnhealthy   = "unhealthy"
	ReasonRestartLoop = "restart-loop"
	ReasonExited      = "exited"
	ReasonOOM         = "out-of-memory"
	ReasonTimeout     = "timeout"
	ReasonNotCreated  = "not-created"
	ReasonRemoved     = "removed"
	ReasonNotReached  = "not-reached"
)

// LoopDies is how many times a container may die without becoming ready in
// between before it counts as a restart loop. Two: the first crash may be a
// dependency race that one restart fixes; the second, with no healthy moment
// between, is the loop `restart: unless-stopped` would repeat forever.
const LoopDies = 2

// Snapshot is what an inspect of a service's container says.
type Snapshot struct {
	ContainerID    string
	State          string // created, running, restarting, exited, dead, paused, removing
	Health         string // "", starting, healthy, unhealthy
	HasHealthcheck bool
	ExitCode       int
	OOMKilled      bool
	RestartCount   int
	RestartPolicy  string // "", no, always, unless-stopped, on-failure
	StartedAt      time.Time
	FinishedAt     time.Time
	FailingStreak  int
	LastProbe      string
	LastProbeExit  int
	HasProbe       bool
}

// Event is one Engine event about a service's container.
type Event struct {
	Time        time.Time
	ContainerID string
	// Action: create, start, die, oom, restart, destroy, health_status.
	Action   string
	Health   string // for health_status: healthy, unhealthy, starting
	ExitCode int    // for die
}

// Service is the waiter's view of one target service. It is a pure state
// machine (Apply*, no I/O) so every rule is unit-tested with synthetic
// events; the Engine driver only feeds it.
type Service struct {
	Name string `json:"service"`

	ContainerID    string    `json:"container_id,omitempty"`
	State          string    `json:"state"`
	Health         string    `json:"health,omitempty"`
	HasHealthcheck bool      `json:"has_healthcheck"`
	StartedAt      time.Time `json:"started_at,omitzero"`
	FailingStreak  int       `json:"failing_streak"`
	LastProbe      string    `json:"last_probe,omitempty"`
	LastProbeExit  int       `json:"last_probe_exit"`
	ExitCode       int       `json:"exit_code"`
	RestartPolicy  string    `json:"restart_policy,omitempty"`
	// Dies counts deaths of the current container since it was last ready.
	Dies int  `json:"dies"`
	OOM  bool `json:"oom,omitempty"`

	Outcome Outcome `json:"outcome"`
	Reason  string  `json:"reason,omitempty"`
	Detail  string  `json:"detail,omitempty"`
	// DecidedAt is the Engine's time of the transition that decided the
	// outcome (from the event's timestamp where there was one).
	DecidedAt time.Time `json:"decided_at,omitzero"`

	// knownAt is the latest Engine time a snapshot covers (its container's
	// start or finish): events older than it are already reflected.
	knownAt time.Time
	// restartBase is the Engine's restart count when the service was last
	// ready, so a restart long ago does not count towards a loop.
	restartBase  int
	restartCount int
	// inspected: a snapshot of this container was seen, so HasHealthcheck
	// and RestartPolicy are known (events alone do not carry them).
	inspected bool
}

// NewService starts a service in the waiting state with no container yet.
func NewService(name string) *Service {
	return &Service{Name: name, State: "not created", Outcome: Waiting}
}

// ApplySnapshot folds an inspect result in. now is when it was taken.
func (s *Service) ApplySnapshot(sn Snapshot, now time.Time) {
	if sn.ContainerID != s.ContainerID {
		s.resetFor(sn.ContainerID)
	}
	s.inspected = true
	s.State = sn.State
	s.Health = sn.Health
	s.HasHealthcheck = sn.HasHealthcheck
	s.ExitCode = sn.ExitCode
	s.RestartPolicy = sn.RestartPolicy
	if !sn.StartedAt.IsZero() {
		s.StartedAt = sn.StartedAt
	}
	s.FailingStreak = sn.FailingStreak
	if sn.HasProbe {
		s.LastProbe = sn.LastProbe
		s.LastProbeExit = sn.LastProbeExit
	}
	if sn.OOMKilled {
		s.OOM = true
	}
	// The Engine's restart count is authoritative, also when we joined late
	// (a stack that was already looping before `up` ran).
	s.restartCount = sn.RestartCount
	if s.restartBase > sn.RestartCount {
		s.restartBase = 0
	}
	// The Engine counts a restart when it schedules it, at the death: a
	// "restarting" container's count already includes its latest death;
	// an exited one (not restarted) died once more than it restarted.
	s.Dies = sn.RestartCount - s.restartBase + boolInt(sn.State == "exited" || sn.State == "dead")
	s.knownAt = laterOf(sn.StartedAt, sn.FinishedAt)
	s.evaluate(now)
}

// ApplyEvent folds an Engine event in.
func (s *Service) ApplyEvent(e Event) {
	if e.Action == "create" {
		s.resetFor(e.ContainerID)
		s.State = "created"
		return
	}
	if e.ContainerID != s.ContainerID && s.ContainerID != "" {
		// An old container of a recreated service: compose stops and removes
		// it; its death says nothing about the new one.
		return
	}
	if e.Time.Before(s.knownAt) {
		// Queued while we inspected: the snapshot already includes it.
		return
	}
	s.ContainerID = e.ContainerID
	switch e.Action {
	case "start":
		s.State = "running"
		s.StartedAt = e.Time
		if s.HasHealthcheck {
			s.Health = "starting"
		}
	case "restart":
		s.State = "running"
	case "die":
		if !isDown(s.State) { // a second die without a start between is the same death
			s.Dies++
		}
		s.State = "exited"
		s.ExitCode = e.ExitCode
	case "oom":
		s.OOM = true
	case "destroy":
		s.State = "removed"
	case "health_status":
		s.Health = e.Health
		s.HasHealthcheck = true
	}
	s.evaluate(e.Time)
}

func (s *Service) resetFor(id string) {
	name := s.Name
	*s = Service{Name: name, ContainerID: id, State: "created", Outcome: Waiting}
}

// evaluate applies the per-service rules. A decided service stays decided,
// except that a failure can still be recorded for a service that was ready
// (it then crashed) — the caller decides whether that matters.
func (s *Service) evaluate(at time.Time) {
	decide := func(o Outcome, reason, detail string) {
		if s.Outcome == o && s.Reason == reason {
			s.Detail = detail // a later inspect knows more (the failing streak)
			return
		}
		s.Outcome, s.Reason, s.Detail, s.DecidedAt = o, reason, detail, at
	}
	// Will the Engine start it again? on-failure leaves a clean exit alone.
	restarts := s.RestartPolicy == "always" || s.RestartPolicy == "unless-stopped" ||
		s.RestartPolicy == "on-failure" && s.ExitCode != 0
	switch s.State {
	case "running":
		switch {
		case s.Health == "healthy":
			s.Dies, s.restartBase = 0, s.restartCount
			decide(Ready, "", "healthy")
		case s.Health == "unhealthy":
			decide(Failed, ReasonUnhealthy, fmt.Sprintf("unhealthy after %d failed probes", max(s.FailingStreak, 1)))
		case !s.HasHealthcheck && s.inspected:
			// Deaths are not forgiven here: without a healthcheck, "running"
			// is also the brief moment between two crashes of a loop.
			decide(Ready, "", "running (no healthcheck)")
		default:
			if s.Outcome == Ready {
				// Health went back to starting: only after a restart, which
				// resets the container's health; wait again.
				s.Outcome, s.Reason, s.Detail = Waiting, "", ""
			}
		}
	case "restarting", "exited", "dead":
		switch {
		case s.OOM:
			decide(Failed, ReasonOOM, "killed: out of memory (exit 137)")
		case s.Dies >= LoopDies:
			decide(Failed, ReasonRestartLoop, fmt.Sprintf("restart loop: died %d times without becoming healthy (last exit code %d)", s.Dies, s.ExitCode))
		case !s.inspected:
			// The restart policy is not known yet: the next inspect decides.
		case s.State == "exited" && s.ExitCode == 0 && !restarts:
			decide(Ready, "", "finished (exit code 0)")
		case s.State == "exited" && !restarts:
			decide(Failed, ReasonExited, fmt.Sprintf("exited with code %d", s.ExitCode))
		case s.State == "dead":
			decide(Failed, ReasonExited, "container is dead (the Engine could not stop or remove it)")
		}
	case "removed":
		if s.Outcome == Waiting {
			// compose recreates containers: a removal is only final when no
			// new container follows, which the caller's timeout decides.
			s.Detail = "container removed"
		}
	}
}

// Budget is how long a container may take to become ready, from its
// healthcheck timings: the Engine declares it unhealthy only after
// start_period + (interval+timeout) × retries, so waiting less than that
// would fail services that are merely slow.
func Budget(hc Healthcheck) time.Duration {
	if !hc.Present {
		return 30 * time.Second
	}
	interval := orDefault(hc.Interval, 30*time.Second)
	timeout := orDefault(hc.Timeout, 30*time.Second)
	retries := hc.Retries
	if retries <= 0 {
		retries = 3
	}
	return hc.StartPeriod + time.Duration(retries+1)*(interval+timeout) + 10*time.Second
}

// Healthcheck is the timing of a container's healthcheck (image or compose).
type Healthcheck struct {
	Present     bool
	Interval    time.Duration
	Timeout     time.Duration
	StartPeriod time.Duration
	Retries     int
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

func isDown(state string) bool {
	return state == "exited" || state == "dead" || state == "restarting"
}

func laterOf(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
