package cli

import (
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/claire-de-binare/cdb-setup/internal/step"
)

// Thresholds of the "still working" indicator: a step that returns within
// quietFor shows nothing; after that a spinner with the elapsed time (on a
// terminal that can redraw) or a plain line every plainEvery.
const (
	quietFor   = time.Second
	plainEvery = 15 * time.Second
)

var spinnerFrames = []string{"⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"}

// stepProgress returns a step.Options.OnApply that shows every step
// running longer than a second is alive: what it is doing and for how
// long. Steps that print their own progress (step.Talks) are left alone.
func stepProgress(w io.Writer, scr Screen, size func() (int, int)) func(step.Step, step.Change) func() {
	return func(s step.Step, c step.Change) func() {
		if step.Talks(s) || c.None {
			return nil
		}
		return startProgress(w, scr, size, c.Summary)
	}
}

// startProgress shows what is being done until the returned func is
// called (which clears the spinner line, so the step's result line takes
// its place).
func startProgress(w io.Writer, scr Screen, size func() (int, int), what string) func() {
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		start := time.Now()
		select {
		case <-stop:
			return
		case <-time.After(quietFor):
		}
		if !scr.Redraw {
			fmt.Fprintf(w, "  … [%s] still working: %s\n", time.Since(start).Round(time.Second), what)
			tick := time.NewTicker(plainEvery)
			defer tick.Stop()
			for {
				select {
				case <-stop:
					return
				case <-tick.C:
					fmt.Fprintf(w, "  … [%s] still working: %s\n", time.Since(start).Round(time.Second), what)
				}
			}
		}
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for i := 0; ; i++ {
			// The elapsed time comes first: a narrow terminal cuts the end.
			line := fmt.Sprintf("%s [%s] %s", spinnerFrames[i%len(spinnerFrames)], time.Since(start).Round(time.Second), what)
			if cols, _ := size(); cols > 0 {
				line = truncate(line, cols-1)
			}
			fmt.Fprint(w, "\r\x1b[2K"+line)
			select {
			case <-stop:
				fmt.Fprint(w, "\r\x1b[2K")
				return
			case <-tick.C:
			}
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() { close(stop); wg.Wait() })
	}
}
