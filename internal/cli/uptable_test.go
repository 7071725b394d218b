package cli

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/claire-de-binare/cdb-setup/internal/stack"
)

func TestLiveTableTransitionsWithoutTTY(t *testing.T) {
	var buf bytes.Buffer
	tb := newLiveTable(&buf, false, false)
	svc := stack.Service{Name: "cdb_redis", State: "running", Health: "starting", Outcome: stack.Waiting}
	tb.Update([]stack.Service{svc})
	tb.Update([]stack.Service{svc}) // no change: no line
	svc.Health, svc.Outcome, svc.Detail = "healthy", stack.Ready, "healthy"
	tb.Update([]stack.Service{svc})
	out := buf.String()
	if strings.Count(out, "\n") != 2 || !strings.Contains(out, "cdb_redis: running health healthy → ready") {
		t.Errorf("output:\n%s", out)
	}
	if strings.Contains(out, "\x1b") {
		t.Errorf("escape codes without a terminal")
	}
}

func TestLiveTableRedrawsInPlace(t *testing.T) {
	var buf bytes.Buffer
	tb := newLiveTable(&buf, true, false)
	now := time.Now()
	tb.now = func() time.Time { return now }
	rows := []stack.Service{
		{Name: "cdb_redis", State: "running", Health: "starting", HasHealthcheck: true, StartedAt: now.Add(-3 * time.Second), FailingStreak: 2, LastProbe: "NOAUTH Authentication required."},
		{Name: "cdb_ws", State: "created"},
	}
	tb.Update(rows)
	first := buf.String()
	if !strings.Contains(first, "SERVICE") || !strings.Contains(first, "3s") || !strings.Contains(first, "NOAUTH") || strings.Contains(first, "\x1b[31m") {
		t.Errorf("first draw:\n%q", first)
	}
	buf.Reset()
	tb.Update(rows)
	if !strings.HasPrefix(buf.String(), "\x1b[3A") {
		t.Errorf("second draw must move up over the 3 lines drawn: %q", buf.String())
	}
}
