package stack

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/events"
)

// scriptedEngine plays a fixed story: containers to list, inspect results
// that the test changes as the story goes, and an event stream it feeds.
type scriptedEngine struct {
	mu        sync.Mutex
	list      []container.Summary
	inspect   map[string]container.InspectResponse
	events    chan events.Message
	subscribe chan struct{} // closed when Events was called
	order     []string
}

func (e *scriptedEngine) Events(ctx context.Context, o events.ListOptions) (<-chan events.Message, <-chan error) {
	e.mu.Lock()
	e.order = append(e.order, "events")
	e.mu.Unlock()
	close(e.subscribe)
	return e.events, make(chan error)
}

func (e *scriptedEngine) ContainerList(ctx context.Context, o container.ListOptions) ([]container.Summary, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.order = append(e.order, "list")
	return e.list, nil
}

func (e *scriptedEngine) ContainerInspect(ctx context.Context, id string) (container.InspectResponse, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.inspect[id], nil
}

func (e *scriptedEngine) set(id string, ci container.InspectResponse) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.inspect[id] = ci
}

func inspectOf(id, status, health string, restarts int) container.InspectResponse {
	ci := container.InspectResponse{ContainerJSONBase: &container.ContainerJSONBase{ID: id, RestartCount: restarts,
		State:      &container.State{Status: container.ContainerState(status), StartedAt: time.Now().Format(time.RFC3339Nano)},
		HostConfig: &container.HostConfig{RestartPolicy: container.RestartPolicy{Name: "unless-stopped"}}}}
	ci.Config = &container.Config{Healthcheck: &container.HealthConfig{Test: []string{"CMD", "/svc", "probe"}, Interval: time.Second}}
	if health != "" {
		ci.State.Health = &container.Health{Status: container.HealthStatus(health)}
	}
	return ci
}

func msg(id, svc, action string, attrs ...string) events.Message {
	a := map[string]string{LabelService: svc, LabelProject: "p"}
	for i := 0; i+1 < len(attrs); i += 2 {
		a[attrs[i]] = attrs[i+1]
	}
	return events.Message{Type: events.ContainerEventType, Action: events.Action(action), Actor: events.Actor{ID: id, Attributes: a}, TimeNano: time.Now().UnixNano()}
}

func TestWaitHealthySubscribesFirstAndWaitsForCompose(t *testing.T) {
	eng := &scriptedEngine{
		list:      []container.Summary{{ID: "r1", Labels: map[string]string{LabelService: "redis", LabelProject: "p"}, Created: time.Now().Unix()}},
		inspect:   map[string]container.InspectResponse{"r1": inspectOf("r1", "running", "starting", 0)},
		events:    make(chan events.Message, 10),
		subscribe: make(chan struct{}),
	}
	composeDone := make(chan error, 1)
	started := make(chan struct{})
	var res WaitResult
	var err error
	done := make(chan struct{})
	go func() {
		res, err = WaitHealthy(context.Background(), eng, WaitOptions{Project: "p", Services: []string{"redis"}, ComposeDone: composeDone,
			OnSubscribed: func() { close(started) }})
		close(done)
	}()
	<-started
	// Healthy, delivered twice (the Since replay): counted once.
	eng.set("r1", inspectOf("r1", "running", "healthy", 0))
	m := msg("r1", "redis", "health_status: healthy")
	eng.events <- m
	eng.events <- m
	select {
	case <-done:
		t.Fatal("the wait ended while compose was still running (it may still recreate the container)")
	case <-time.After(100 * time.Millisecond):
	}
	composeDone <- nil
	<-done
	if err != nil || !res.AllReady {
		t.Fatalf("err %v, result %+v", err, res)
	}
	if eng.order[0] != "events" || eng.order[1] != "list" {
		t.Errorf("order %v: the subscription must come before the listing", eng.order)
	}
}

func TestWaitHealthyEndsAtTheFirstFailure(t *testing.T) {
	eng := &scriptedEngine{
		inspect:   map[string]container.InspectResponse{},
		events:    make(chan events.Message, 10),
		subscribe: make(chan struct{}),
	}
	composeDone := make(chan error) // compose never finishes: the failure must not wait for it
	go func() {
		<-eng.subscribe
		eng.set("a1", inspectOf("a1", "running", "starting", 0))
		eng.events <- msg("a1", "app", "create")
		eng.events <- msg("a1", "app", "start")
		eng.set("a1", inspectOf("a1", "restarting", "", 1))
		eng.events <- msg("a1", "app", "die", "exitCode", "1")
		eng.set("a1", inspectOf("a1", "running", "starting", 1))
		eng.events <- msg("a1", "app", "start")
		eng.set("a1", inspectOf("a1", "restarting", "", 2))
		eng.events <- msg("a1", "app", "die", "exitCode", "1")
	}()
	res, err := WaitHealthy(context.Background(), eng, WaitOptions{Project: "p", Services: []string{"app", "db"}, ComposeDone: composeDone})
	if err != nil {
		t.Fatal(err)
	}
	if res.AllReady || res.Services[0].Reason != ReasonRestartLoop || res.Services[1].Outcome != Waiting {
		t.Fatalf("%+v", res.Services)
	}
}
