package stack

import (
	"testing"
	"time"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func at(sec float64) time.Time { return t0.Add(time.Duration(sec * float64(time.Second))) }

// machineInput is one input to the machine: an event or a snapshot.
type machineInput struct {
	ev *Event
	sn *Snapshot
}

func ev(sec float64, id, action string, extra ...any) machineInput {
	e := Event{Time: at(sec), ContainerID: id, Action: action}
	for _, x := range extra {
		switch v := x.(type) {
		case string:
			e.Health = v
		case int:
			e.ExitCode = v
		}
	}
	return machineInput{ev: &e}
}

func sn(s Snapshot) machineInput { return machineInput{sn: &s} }

func TestServiceMachine(t *testing.T) {
	tests := []struct {
		name    string
		steps   []machineInput
		outcome Outcome
		reason  string
		dies    int
	}{
		{
			name: "healthy after starting",
			steps: []machineInput{
				ev(0, "a", "create"), ev(0.1, "a", "start"),
				sn(Snapshot{ContainerID: "a", State: "running", Health: "starting", HasHealthcheck: true, StartedAt: at(0.1)}),
				ev(2, "a", "health_status", "healthy"),
			},
			outcome: Ready,
		},
		{
			name:    "running without a healthcheck is ready",
			steps:   []machineInput{sn(Snapshot{ContainerID: "a", State: "running", StartedAt: at(0)})},
			outcome: Ready,
		},
		{
			name: "still starting is waiting",
			steps: []machineInput{
				sn(Snapshot{ContainerID: "a", State: "running", Health: "starting", HasHealthcheck: true, StartedAt: at(0)}),
			},
			outcome: Waiting,
		},
		{
			name: "unhealthy fails at once",
			steps: []machineInput{
				sn(Snapshot{ContainerID: "a", State: "running", Health: "starting", HasHealthcheck: true, StartedAt: at(0)}),
				ev(5, "a", "health_status", "unhealthy"),
			},
			outcome: Failed, reason: ReasonUnhealthy,
		},
		{
			name: "crash without restart policy fails on the first exit",
			steps: []machineInput{
				sn(Snapshot{ContainerID: "a", State: "running", RestartPolicy: "no", StartedAt: at(0)}),
				ev(0.5, "a", "die", 1),
			},
			outcome: Failed, reason: ReasonExited, dies: 1,
		},
		{
			name: "one-shot exiting 0 is done",
			steps: []machineInput{
				sn(Snapshot{ContainerID: "a", State: "created", RestartPolicy: "no"}),
				ev(0.1, "a", "start"), ev(0.2, "a", "die", 0),
			},
			outcome: Ready, dies: 1,
		},
		{
			name: "on-failure with exit 0 is done",
			steps: []machineInput{
				sn(Snapshot{ContainerID: "a", State: "exited", RestartPolicy: "on-failure", ExitCode: 0, FinishedAt: at(1)}),
			},
			outcome: Ready, dies: 1,
		},
		{
			name: "restart loop from events",
			steps: []machineInput{
				sn(Snapshot{ContainerID: "a", State: "running", HasHealthcheck: true, Health: "starting", RestartPolicy: "unless-stopped", StartedAt: at(0)}),
				ev(0.2, "a", "die", 1),
				ev(0.4, "a", "start"),
				ev(0.6, "a", "die", 1),
			},
			outcome: Failed, reason: ReasonRestartLoop, dies: 2,
		},
		{
			name: "one crash then healthy is not a loop",
			steps: []machineInput{
				sn(Snapshot{ContainerID: "a", State: "running", HasHealthcheck: true, Health: "starting", RestartPolicy: "unless-stopped", StartedAt: at(0)}),
				ev(0.2, "a", "die", 1),
				ev(0.4, "a", "start"),
				ev(3, "a", "health_status", "healthy"),
			},
			outcome: Ready,
		},
		{
			name: "restart loop of a service without a healthcheck",
			steps: []machineInput{
				sn(Snapshot{ContainerID: "a", State: "running", RestartPolicy: "always", StartedAt: at(0)}),
				ev(0.2, "a", "die", 1),
				ev(0.4, "a", "start"),
				ev(0.6, "a", "die", 1),
			},
			outcome: Failed, reason: ReasonRestartLoop, dies: 2,
		},
		{
			name: "restart loop from the Engine's restart count when joining late",
			steps: []machineInput{
				sn(Snapshot{ContainerID: "a", State: "restarting", RestartPolicy: "unless-stopped", RestartCount: 4, ExitCode: 1, FinishedAt: at(9)}),
			},
			outcome: Failed, reason: ReasonRestartLoop, dies: 4,
		},
		{
			name: "a die already seen by the snapshot is not counted twice",
			steps: []machineInput{
				sn(Snapshot{ContainerID: "a", State: "running", HasHealthcheck: true, Health: "starting", RestartPolicy: "always", StartedAt: at(0)}),
				// The Engine counts the restart at the death, before it happens.
				sn(Snapshot{ContainerID: "a", State: "restarting", RestartPolicy: "always", RestartCount: 1, ExitCode: 1, StartedAt: at(0), FinishedAt: at(1)}),
				ev(1.0001, "a", "die", 1), // the same death, queued during the inspect
			},
			outcome: Waiting, dies: 1,
		},
		{
			name: "the first crash is not a loop even though the Engine already counts its restart",
			steps: []machineInput{
				sn(Snapshot{ContainerID: "a", State: "running", HasHealthcheck: true, Health: "starting", RestartPolicy: "unless-stopped", StartedAt: at(0)}),
				ev(0.5, "a", "die", 1),
				sn(Snapshot{ContainerID: "a", State: "restarting", HasHealthcheck: true, RestartPolicy: "unless-stopped", RestartCount: 1, ExitCode: 1, StartedAt: at(0), FinishedAt: at(0.5)}),
			},
			outcome: Waiting, dies: 1,
		},
		{
			name: "events older than the snapshot are ignored",
			steps: []machineInput{
				sn(Snapshot{ContainerID: "a", State: "running", HasHealthcheck: true, Health: "starting", RestartPolicy: "always", RestartCount: 1, StartedAt: at(2), FinishedAt: at(1)}),
				ev(1, "a", "die", 1),
				ev(2, "a", "start"),
			},
			outcome: Waiting, dies: 1,
		},
		{
			name: "an old container's death after recreate is ignored",
			steps: []machineInput{
				sn(Snapshot{ContainerID: "old", State: "running", RestartPolicy: "no", StartedAt: at(0)}),
				ev(1, "new", "create"),
				ev(1.1, "old", "die", 137),
				ev(1.2, "new", "start"),
			},
			outcome: Waiting,
		},
		{
			name: "out of memory",
			steps: []machineInput{
				sn(Snapshot{ContainerID: "a", State: "running", RestartPolicy: "unless-stopped", StartedAt: at(0), HasHealthcheck: true, Health: "starting"}),
				ev(1, "a", "oom"), ev(1, "a", "die", 137),
			},
			outcome: Failed, reason: ReasonOOM, dies: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewService("svc")
			for _, st := range tt.steps {
				if st.ev != nil {
					s.ApplyEvent(*st.ev)
				} else {
					s.ApplySnapshot(*st.sn, at(100))
				}
			}
			if s.Outcome != tt.outcome || s.Reason != tt.reason {
				t.Fatalf("outcome %s/%q (%s), want %s/%q", s.Outcome, s.Reason, s.Detail, tt.outcome, tt.reason)
			}
			if s.Dies != tt.dies {
				t.Errorf("dies = %d, want %d", s.Dies, tt.dies)
			}
		})
	}
}

func TestBudget(t *testing.T) {
	// CDB postgres: 10s/3s/3 → (10+3)×4 + 10 = 62s.
	got := Budget(Healthcheck{Present: true, Interval: 10 * time.Second, Timeout: 3 * time.Second, Retries: 3})
	if got != 62*time.Second {
		t.Errorf("budget = %s", got)
	}
	if Budget(Healthcheck{}) != 30*time.Second {
		t.Errorf("no healthcheck budget = %s", Budget(Healthcheck{}))
	}
}

func TestFailNotStartedBlamesTheNamedService(t *testing.T) {
	res := WaitResult{Services: []Service{
		{Name: "db", State: "not created", Outcome: Waiting},
		{Name: "other", State: "not created", Outcome: Waiting},
		{Name: "ok", ContainerID: "c", State: "running", Outcome: Ready},
	}}
	out := " Container p-db-1  Creating\n Container p-other-1  Creating\n Container p-db-1  Error response from daemon: invalid mount config\n"
	FailNotStarted(&res, out)
	if r := res.Services[0]; r.Reason != ReasonNotCreated {
		t.Errorf("db: %s", r.Reason)
	}
	if r := res.Services[1]; r.Reason != ReasonNotReached {
		t.Errorf("other: %s", r.Reason)
	}
	if r := res.Services[2]; r.Outcome != Ready {
		t.Errorf("a ready service is untouched: %+v", r)
	}
}
