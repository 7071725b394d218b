package cli

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/claire-de-binare/cdb-setup/internal/stack"
)

// liveTable shows the waiter's progress. On a terminal it redraws one row
// per service in place; elsewhere (CI logs, pipes) it prints one line per
// state transition, so a log reads as a history rather than a mess of
// escape codes.
type liveTable struct {
	mu      sync.Mutex
	w       io.Writer
	tty     bool
	color   bool
	drawn   int
	last    map[string]string
	started time.Time
	now     func() time.Time
}

func newLiveTable(w io.Writer, tty, color bool) *liveTable {
	return &liveTable{w: w, tty: tty, color: color, last: map[string]string{}, started: time.Now(), now: time.Now}
}

// Update is the waiter's OnChange.
func (t *liveTable) Update(services []stack.Service) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.tty {
		t.redraw(services)
		return
	}
	for _, s := range services {
		line := transitionLine(s)
		if t.last[s.Name] == line {
			continue
		}
		t.last[s.Name] = line
		fmt.Fprintf(t.w, "  [%5.1fs] %s\n", t.now().Sub(t.started).Seconds(), line)
	}
}

func transitionLine(s stack.Service) string {
	parts := []string{s.Name + ":", s.State}
	if s.Health != "" && s.State == "running" {
		parts = append(parts, "health "+s.Health)
	}
	switch s.Outcome {
	case stack.Ready:
		parts = append(parts, "→ ready ("+s.Detail+")")
	case stack.Failed:
		parts = append(parts, "→ FAILED: "+s.Detail)
	}
	if s.Outcome != stack.Ready && s.FailingStreak > 0 && s.LastProbe != "" {
		parts = append(parts, fmt.Sprintf("(failing %d: %s)", s.FailingStreak, stack.Shorten(s.LastProbe, 60)))
	}
	return strings.Join(parts, " ")
}

func (t *liveTable) redraw(services []stack.Service) {
	var b strings.Builder
	if t.drawn > 0 {
		fmt.Fprintf(&b, "\x1b[%dA", t.drawn)
	}
	rows := [][]string{{"SERVICE", "STATE", "HEALTH", "UP", "STREAK", "LAST PROBE"}}
	for _, s := range services {
		up := ""
		if !s.StartedAt.IsZero() && s.State == "running" {
			up = t.now().Sub(s.StartedAt).Round(time.Second).String()
		}
		health := s.Health
		switch {
		case s.State == "exited" || s.State == "restarting" || s.State == "dead":
			// A stopped container's health is stale; its exit code is the news.
			health = fmt.Sprintf("exit %d", s.ExitCode)
		case health == "" && s.State == "running" && !s.HasHealthcheck:
			health = "-"
		}
		streak := ""
		if s.FailingStreak > 0 {
			streak = fmt.Sprint(s.FailingStreak)
		}
		rows = append(rows, []string{s.Name, s.State, t.paint(s, health), up, streak, stack.Shorten(s.LastProbe, 50)})
	}
	widths := make([]int, len(rows[0]))
	for _, r := range rows {
		for i, c := range r {
			if n := visibleLen(c); n > widths[i] {
				widths[i] = n
			}
		}
	}
	for _, r := range rows {
		b.WriteString("\x1b[2K")
		for i, c := range r {
			b.WriteString(c)
			if i < len(r)-1 {
				b.WriteString(strings.Repeat(" ", widths[i]-visibleLen(c)+2))
			}
		}
		b.WriteString("\n")
	}
	t.drawn = len(rows)
	io.WriteString(t.w, b.String())
}

func (t *liveTable) paint(s stack.Service, text string) string {
	if !t.color || text == "" {
		return text
	}
	switch {
	case s.Outcome == stack.Failed:
		return "\x1b[31m" + text + "\x1b[0m"
	case s.Outcome == stack.Ready:
		return "\x1b[32m" + text + "\x1b[0m"
	default:
		return "\x1b[33m" + text + "\x1b[0m"
	}
}

func visibleLen(s string) int {
	n, esc := 0, false
	for _, r := range s {
		switch {
		case r == '\x1b':
			esc = true
		case esc && r == 'm':
			esc = false
		case !esc:
			n++
		}
	}
	return n
}
