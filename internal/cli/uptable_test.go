package cli

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

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

// termScreen replays what a program wrote to a terminal of cols×rows the
// way a terminal does for the sequences the table and the progress lines
// use (text, \r, \n, cursor up, erase line; other escape sequences are
// ignored): it returns the scrollback followed by the screen. A line wider
// than the terminal wraps, and the cursor cannot move above the screen's
// top, so a redraw that miscounts leaves stale rows behind, as it would in
// a real terminal.
func termScreen(raw string, cols, rows int) []string {
	lines := [][]rune{{}}
	row, col := 0, 0
	pending := false // xterm: a character in the last column wraps only when the next one comes
	newline := func() {
		row++
		if row == len(lines) {
			lines = append(lines, []rune{})
		}
	}
	put := func(r rune) {
		if pending {
			newline()
			col, pending = 0, false
		}
		l := lines[row]
		for len(l) <= col {
			l = append(l, ' ')
		}
		l[col] = r
		lines[row] = l
		if col == cols-1 {
			pending = true
		} else {
			col++
		}
	}
	csi := regexp.MustCompile(`^\x1b\[([0-9;?]*)([ -/]*[@-~])`)
	for i := 0; i < len(raw); {
		if m := csi.FindStringSubmatch(raw[i:]); m != nil {
			switch m[2] {
			case "A":
				n := 1
				fmt.Sscan(m[1], &n)
				top := max(0, len(lines)-rows)
				row = max(top, row-n)
				pending = false
			case "K":
				if m[1] == "2" {
					lines[row] = []rune{}
				}
			}
			i += len(m[0])
			continue
		}
		if raw[i] == '\x1b' {
			if loc := escRe.FindStringIndex(raw[i:]); loc != nil && loc[0] == 0 {
				i += loc[1]
				continue
			}
		}
		r, n := utf8.DecodeRuneInString(raw[i:])
		i += n
		switch r {
		case '\r':
			col, pending = 0, false
		case '\n':
			newline()
			col, pending = 0, false
		default:
			put(r)
		}
	}
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = strings.TrimRight(string(l), " ")
	}
	return out
}

// escRe matches the escape sequences the table and progress lines write.
var escRe = regexp.MustCompile(`\x1b\[[0-9;?]*[ -/]*[@-~]`)

func narrowServices(now time.Time) []stack.Service {
	return []stack.Service{
		{Name: "cdbtstack-redis-with-a-long-name", State: "running", Health: "starting", HasHealthcheck: true, StartedAt: now.Add(-2 * time.Second), FailingStreak: 3, LastProbe: "starting: 1.3s of 2s"},
		{Name: "cdb_ws", State: "running", Health: "healthy", HasHealthcheck: true, StartedAt: now.Add(-9 * time.Second), Outcome: stack.Ready},
		{Name: "cdb_db", State: "not created"},
	}
}

// At 60 columns every row fits (columns dropped, the probe cut with …),
// so redrawing in place leaves exactly one table on the screen.
func TestLiveTableFitsTheWidth(t *testing.T) {
	for _, size := range [][2]int{{60, 20}, {120, 40}, {30, 20}} {
		var buf bytes.Buffer
		tb := newLiveTable(&buf, true, true)
		tb.size = func() (int, int) { return size[0], size[1] }
		now := time.Now()
		tb.now = func() time.Time { return now }
		for i := 0; i < 5; i++ {
			tb.Update(narrowServices(now))
		}
		screen := termScreen(buf.String(), size[0], size[1])
		if n := strings.Count(strings.Join(screen, "\n"), "SERVICE"); n != 1 {
			t.Errorf("%v: %d table headers on the screen and in the scrollback:\n%s", size, n, strings.Join(screen, "\n"))
		}
		for _, l := range strings.Split(buf.String(), "\n") {
			if w := width(escRe.ReplaceAllString(l, "")); w > size[0]-1 {
				t.Errorf("%v: a row is %d wide: %q", size, w, l)
			}
		}
		if size[0] == 120 && !strings.Contains(buf.String(), "starting: 1.3s of 2s") {
			t.Errorf("120 columns: the probe output was cut:\n%s", strings.Join(screen, "\n"))
		}
	}
}

// A table taller than the terminal cannot be redrawn (its top is out of
// reach): one line per change instead, no cursor moves.
func TestLiveTableTallerThanTheTerminal(t *testing.T) {
	var buf bytes.Buffer
	tb := newLiveTable(&buf, true, false)
	tb.size = func() (int, int) { return 60, 4 }
	now := time.Now()
	tb.now = func() time.Time { return now }
	tb.Update(narrowServices(now))
	tb.Update(narrowServices(now))
	out := buf.String()
	if strings.Contains(out, "\x1b[") || strings.Contains(out, "SERVICE") || !strings.Contains(out, "taller than the terminal") || strings.Count(out, "cdb_ws") != 1 {
		t.Errorf("output:\n%q", out)
	}
}

// Compose's build output turns "not created" into "building image…".
func TestLiveTableShowsImageBuilds(t *testing.T) {
	var buf bytes.Buffer
	tb := newLiveTable(&buf, false, false)
	tb.Update([]stack.Service{{Name: "app", State: "not created"}})
	bw := newBuildWatcher(tb, []string{"app"})
	fmt.Fprint(bw, "#0 building with \"default\" instance using docker driver\n\n#5 [app 2/2] RUN sleep 2 && ech")
	fmt.Fprint(bw, "o hi\n#5 2.389 hi\n")
	if !strings.Contains(buf.String(), "app: building image… 2/2 RUN sleep 2 && echo hi") {
		t.Errorf("output:\n%s", buf.String())
	}
	fmt.Fprint(bw, " app  Built\n")
	if !strings.HasSuffix(buf.String(), "app: not created\n") {
		t.Errorf("after the build:\n%s", buf.String())
	}
}

func TestWrapWordsNeverBreaksAWord(t *testing.T) {
	line := "  ✗ Published host ports are free: 127.0.0.1:5432 is held by postgres (pid 42), a process outside Docker"
	got := wrapWords(line, 40, "    ")
	for _, l := range strings.Split(strings.TrimSuffix(got, "\n"), "\n") {
		if width(l) > 39 {
			t.Errorf("line %q is wider than 39", l)
		}
	}
	if strings.Join(strings.Fields(got), " ") != strings.Join(strings.Fields(line), " ") {
		t.Errorf("words changed:\n%s", got)
	}
	if !strings.Contains(got, "127.0.0.1:5432") {
		t.Errorf("a word was broken:\n%s", got)
	}
	if wrapWords(line, 0, "    ") != line+"\n" {
		t.Error("no terminal: the line must stay whole")
	}
}
