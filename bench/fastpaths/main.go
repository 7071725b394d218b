//go:build unix

// Command fastpaths times commands against their baselines, alternating
// (tool, baseline, tool, baseline, …) in one run so both see the same
// machine load, and prints medians of wall time and CPU time (user + system
// of the process and the children it waited for, from wait4's rusage).
// Run it through bench/fast-paths.sh, which builds everything it needs.
//
// The cases are read from a file, one a line, fields separated by " ;; ":
//
//	name ;; target ;; tool-prep ;; tool ;; base-prep ;; base
//
// A prep command runs before each timed run and is not timed; base and
// the preps may be empty ("-"). Commands are split on spaces (no shell, so
// no shell start-up is timed); two single quotes stand for an empty argument. target is printed
// as is (e.g. "≤ 1.5× shell").
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"sort"
	"strings"
	"syscall"
	"time"
)

type spec struct {
	name, target           string
	toolPrep, tool         []string
	basePrep, base         []string
	toolWall, toolCPU      []time.Duration
	baseWall, baseCPU      []time.Duration
	toolFailed, baseFailed int
}

func main() {
	cases := flag.String("cases", "", "file of cases")
	rounds := flag.Int("rounds", 21, "timed runs of each command")
	warmup := flag.Int("warmup", 3, "untimed runs of each command first")
	flag.Parse()
	specs, err := readCases(*cases)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	for _, s := range specs {
		for i := 0; i < *warmup+*rounds; i++ {
			timed := i >= *warmup
			// Alternate which goes first, so neither always follows the other.
			order := []bool{true, false}
			if i%2 == 1 {
				order = []bool{false, true}
			}
			for _, isTool := range order {
				prep, cmd := s.toolPrep, s.tool
				if !isTool {
					prep, cmd = s.basePrep, s.base
				}
				if cmd == nil {
					continue
				}
				if prep != nil {
					if _, _, err := run(prep); err != nil {
						fmt.Fprintf(os.Stderr, "%s: prep %v: %v\n", s.name, prep, err)
						os.Exit(1)
					}
				}
				wall, cpu, err := run(cmd)
				if err != nil {
					fmt.Fprintf(os.Stderr, "%s: %v: %v\n", s.name, cmd, err)
					if isTool {
						s.toolFailed++
					} else {
						s.baseFailed++
					}
				}
				if !timed {
					continue
				}
				if isTool {
					s.toolWall, s.toolCPU = append(s.toolWall, wall), append(s.toolCPU, cpu)
				} else {
					s.baseWall, s.baseCPU = append(s.baseWall, wall), append(s.baseCPU, cpu)
				}
			}
		}
	}
	fmt.Printf("| command | cdb-setup wall | cdb-setup CPU | baseline wall | baseline CPU | ratio (wall) | target |\n")
	fmt.Printf("|---|---|---|---|---|---|---|\n")
	for _, s := range specs {
		bw, bc, ratio := "—", "—", "—"
		if s.base != nil {
			bw, bc = ms(median(s.baseWall)), ms(median(s.baseCPU))
			ratio = fmt.Sprintf("%.2f×", float64(median(s.toolWall))/float64(median(s.baseWall)))
		}
		failed := ""
		if s.toolFailed+s.baseFailed > 0 {
			failed = fmt.Sprintf(" (%d/%d runs failed)", s.toolFailed, s.baseFailed)
		}
		fmt.Printf("| %s%s | %s | %s | %s | %s | %s | %s |\n", s.name, failed, ms(median(s.toolWall)), ms(median(s.toolCPU)), bw, bc, ratio, s.target)
	}
	fmt.Printf("\n%d timed runs per command after %d warm-ups, alternating with the baseline; medians.\n", *rounds, *warmup)
}

func readCases(path string) ([]*spec, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []*spec
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Split(line, " ;; ")
		if len(fields) != 6 {
			return nil, fmt.Errorf("case %q: want 6 fields separated by \" ;; \", got %d", line, len(fields))
		}
		out = append(out, &spec{name: fields[0], target: fields[1],
			toolPrep: argv(fields[2]), tool: argv(fields[3]), basePrep: argv(fields[4]), base: argv(fields[5])})
	}
	return out, sc.Err()
}

func argv(s string) []string {
	s = strings.TrimSpace(s)
	if s == "-" || s == "" {
		return nil
	}
	out := strings.Fields(s)
	for i, a := range out {
		if a == "''" {
			out[i] = ""
		}
	}
	return out
}

// run times one command: wall clock, and the CPU time of the process and
// the children it reaped.
func run(args []string) (time.Duration, time.Duration, error) {
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdout, cmd.Stderr = nil, nil
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	var cpu time.Duration
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		cpu = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	return wall, cpu, err
}

func median(d []time.Duration) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func ms(d time.Duration) string {
	return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
}
