package platform

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/claire-de-binare/cdb-setup/internal/lazyre"
	"github.com/claire-de-binare/cdb-setup/internal/step"
)

// tempRE is the name WriteFileAtomic gives its temp files: "." + the
// target's name + ".tmp-" + 12 hex digits. Only such names are ever treated
// as leftovers, so nothing of the user's is touched.
var tempRE = lazyre.New(`^\..+\.tmp-[0-9a-f]{12}$`)

// runStart is when this process started (close enough: package init). A
// temp file older than that is no write of this run; with the run lock
// held, none of another run either.
var runStart = time.Now()

// IsTempName reports whether name is one of our temp-file names.
func IsTempName(name string) bool { return tempRE().MatchString(name) }

// Leftovers lists the temp files a killed run left in dirs (a crash between
// create and rename): regular files with our temp name, older than this
// run. A temp of a secret holds the whole secret, so they matter.
func Leftovers(dirs ...string) []string {
	var out []string
	for _, d := range dirs {
		if d == "" {
			continue
		}
		ents, err := os.ReadDir(d)
		if err != nil {
			continue
		}
		for _, e := range ents {
			if !e.Type().IsRegular() || !IsTempName(e.Name()) {
				continue
			}
			if fi, err := e.Info(); err == nil && fi.ModTime().Before(runStart) {
				out = append(out, filepath.Join(d, e.Name()))
			}
		}
	}
	return out
}

// removeStaleTemps deletes leftovers of earlier runs for one target before
// it is written again (the "next run" cleans up after a crash).
func removeStaleTemps(dir, base string) {
	for _, p := range Leftovers(dir) {
		if strings.HasPrefix(filepath.Base(p), "."+base+".tmp-") {
			_ = os.Remove(p)
		}
	}
}

// LeftoversStep removes the temp files killed runs left in Dirs. Run it
// under the run lock.
type LeftoversStep struct {
	Dirs []string
}

func (s *LeftoversStep) ID() string { return "cleanup.leftovers" }

func (s *LeftoversStep) Plan(ctx context.Context) (step.Change, error) {
	l := Leftovers(s.Dirs...)
	if len(l) == 0 {
		return step.Change{None: true, Summary: "no temp files left by an interrupted run"}, nil
	}
	return step.Change{Summary: fmt.Sprintf("remove %d temp file(s) an interrupted run left: %s", len(l), strings.Join(l, ", ")), Targets: l}, nil
}

func (s *LeftoversStep) Apply(ctx context.Context) (step.Result, error) {
	l := Leftovers(s.Dirs...)
	if len(l) == 0 {
		return step.Result{Step: s.ID(), Status: step.StatusDone, Detail: "no temp files left by an interrupted run"}, nil
	}
	var failed []string
	for _, p := range l {
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			failed = append(failed, fmt.Sprintf("%s: %v", p, err))
		}
	}
	if len(failed) > 0 {
		return step.Failed(s.ID(), fmt.Errorf("could not remove: %s", strings.Join(failed, "; ")), "remove these files by hand"), nil
	}
	return step.Result{Step: s.ID(), Status: step.StatusChanged, Detail: fmt.Sprintf("removed %d temp file(s) an interrupted run left", len(l)), Fields: map[string]any{"removed": l}}, nil
}
