package cli

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/claire-de-binare/cdb-setup/internal/stack"
)

// liveTable shows the waiter's progress. On a terminal that can move the
// cursor it redraws one row per service in place, each row cut to the
// terminal's width; elsewhere (TERM=dumb, CI logs, pipes), and when the
// table is taller than the terminal (a redraw could not reach its top and
// would leave stale copies in the scrollback), it prints one line per state
// transition, so the output reads as a history rather than a mess of
// escape codes.
type liveTable struct {
	mu    sync.Mutex
	w     io.Writer
	tty   bool
	color bool
	// size is the terminal's (columns, rows) at each redraw; 0 unknown.
	size  func() (int, int)
	drawn int
	// tooTall: the table no longer fits the terminal's height; the note
	// saying why the lines follow was printed.
	tooTall bool
	last    map[string]string
	build   map[string]string
	svcs    []stack.Service
	started time.Time
	now     func() time.Time
}

func newLiveTable(w io.Writer, tty, color bool) *liveTable {
	return &liveTable{w: w, tty: tty, color: color, last: map[string]string{}, build: map[string]string{}, started: time.Now(), now: time.Now}
}

// Update is the waiter's OnChange.
func (t *liveTable) Update(services []stack.Service) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.svcs = services
	t.show()
}

// Building notes that compose is building service's image (what tells
// the user why a service stays "not created"); step is the build's latest
// step, or "".
func (t *liveTable) Building(service, step string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.build[service] = step
	t.show()
}

// Built notes that service's image is built.
func (t *liveTable) Built(service string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.build, service)
	t.show()
}

func (t *liveTable) show() {
	cols, rows := 0, 0
	if t.size != nil {
		cols, rows = t.size()
	}
	if t.tty && (rows == 0 || len(t.svcs)+2 <= rows) {
		t.redraw(t.svcs, cols)
		return
	}
	if t.tty && !t.tooTall {
		t.tooTall = true
		fmt.Fprintln(t.w, "  (the service table is taller than the terminal: one line per change)")
	}
	for _, s := range t.svcs {
		line := t.transitionLine(s)
		if t.last[s.Name] == line {
			continue
		}
		t.last[s.Name] = line
		out := fmt.Sprintf("  [%5.1fs] %s", t.now().Sub(t.started).Seconds(), line)
		if cols > 0 {
			out = truncate(out, cols-1)
		}
		fmt.Fprintln(t.w, out)
	}
}

// building is the build note of a service that has no container yet.
func (t *liveTable) building(s stack.Service) (string, bool) {
	step, ok := t.build[s.Name]
	if !ok || (s.State != "not created" && s.State != "") {
		return "", false
	}
	return step, true
}

func (t *liveTable) transitionLine(s stack.Service) string {
	if step, ok := t.building(s); ok {
		if step == "" {
			return s.Name + ": building image…"
		}
		return s.Name + ": building image… " + step
	}
	return transitionLine(s)
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

// The table's columns, and the order in which a narrow terminal loses
// them: the streak and uptime first, the probe output last but one (it is
// cut with … before it goes), the service and its state never.
const (
	colService = iota
	colState
	colHealth
	colUp
	colStreak
	colProbe
)

var dropOrder = []int{colStreak, colUp, colProbe, colHealth}

func (t *liveTable) redraw(services []stack.Service, cols int) {
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
		state, probe := s.State, stack.Shorten(s.LastProbe, 50)
		if step, ok := t.building(s); ok {
			state, probe = "building image…", step
		}
		rows = append(rows, []string{s.Name, state, health, up, streak, probe})
	}
	show := fitColumns(rows, cols-1)
	var b strings.Builder
	if t.drawn > 0 {
		fmt.Fprintf(&b, "\x1b[%dA", t.drawn)
	}
	for ri, r := range rows {
		b.WriteString("\x1b[2K")
		var plain, painted strings.Builder
		for i, c := range show {
			cell := r[c.col]
			pad := ""
			if i < len(show)-1 {
				cell = truncate(cell, c.width)
				pad = strings.Repeat(" ", c.width-width(cell)+2)
			}
			plain.WriteString(cell + pad)
			if c.col == colHealth && ri > 0 {
				cell = t.paint(services[ri-1], cell)
			}
			painted.WriteString(cell + pad)
		}
		text := strings.TrimRight(painted.String(), " ")
		if p := strings.TrimRight(plain.String(), " "); cols > 0 && width(p) > cols-1 {
			text = truncate(p, cols-1) // too narrow even for the kept columns
		}
		b.WriteString(text)
		b.WriteString("\n")
	}
	t.drawn = len(rows)
	io.WriteString(t.w, b.String())
}

type shownCol struct{ col, width int }

// fitColumns picks the columns and their widths so a row fits in limit
// characters (0: no limit): the probe column is cut first (down to 12),
// then columns are dropped in dropOrder. Rows are still cut to the width
// afterwards, so a terminal narrower than the service names cannot wrap.
func fitColumns(rows [][]string, limit int) []shownCol {
	widths := make([]int, len(rows[0]))
	for _, r := range rows {
		for i, c := range r {
			widths[i] = max(widths[i], width(c))
		}
	}
	on := map[int]bool{}
	for i := range widths {
		on[i] = true
	}
	total := func() int {
		n, k := 0, 0
		for i, w := range widths {
			if on[i] {
				n += w
				k++
			}
		}
		return n + 2*(k-1)
	}
	if limit > 0 {
		for _, c := range dropOrder {
			if total() <= limit {
				break
			}
			if c == colProbe {
				if over := total() - limit; widths[colProbe]-over >= 12 {
					widths[colProbe] -= over
					break
				}
			}
			on[c] = false
		}
	}
	var out []shownCol
	for i, w := range widths {
		if on[i] {
			out = append(out, shownCol{i, w})
		}
	}
	return out
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

// width is the number of terminal cells of plain text (one per rune: the
// table holds names, states and probe output).
func width(s string) int { return utf8.RuneCountInString(s) }

// truncate cuts s to n cells, the last one "…" when anything was cut.
func truncate(s string, n int) string {
	if n <= 0 || width(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}
