package cli

import (
	"bytes"
	"regexp"
	"strings"
	"sync"
)

// buildWatcher reads compose's output while it runs and tells the table
// which services' images are being built and at which step: a build can
// take minutes while the Engine has no container to report, and the table
// would otherwise say "not created" all along.
type buildWatcher struct {
	mu       sync.Mutex
	services map[string]bool
	table    *liveTable
	partial  []byte
}

// BuildKit's plain progress ("#5 [redis 2/3] RUN make") and compose's
// result line (" redis  Built", " Service redis  Built", " Image x Built").
var (
	buildStepRe = regexp.MustCompile(`^#\d+ \[([^\] ]+)(?: ([^\]]*))?\] (.*)$`)
	builtRe     = regexp.MustCompile(`^\s*(?:Service |Image )?(\S+)\s+Built\s*$`)
)

func newBuildWatcher(t *liveTable, services []string) *buildWatcher {
	w := &buildWatcher{services: map[string]bool{}, table: t}
	for _, s := range services {
		w.services[s] = true
	}
	return w
}

func (w *buildWatcher) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.partial = append(w.partial, p...)
	for {
		i := bytes.IndexByte(w.partial, '\n')
		if i < 0 {
			break
		}
		w.line(strings.TrimRight(string(w.partial[:i]), "\r"))
		w.partial = w.partial[i+1:]
	}
	return len(p), nil
}

func (w *buildWatcher) line(l string) {
	if m := buildStepRe.FindStringSubmatch(l); m != nil && w.services[m[1]] {
		step := m[3]
		if m[2] != "" {
			step = m[2] + " " + step
		}
		w.table.Building(m[1], step)
		return
	}
	if m := builtRe.FindStringSubmatch(l); m != nil && w.services[m[1]] {
		w.table.Built(m[1])
	}
}
