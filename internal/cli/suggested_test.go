package cli

// Regression test of issue 14 "Words that are wrong": every `cdb-setup …`
// command a message suggests must run as printed. The test runs the main
// commands' success and failure paths in-process, collects every command
// the output suggests (in backquotes, or after "fix:") and parses each with
// the real command tree; an unknown command or flag fails.

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/spf13/pflag"

	"github.com/claire-de-binare/cdb-setup/internal/platform"
	"github.com/claire-de-binare/cdb-setup/internal/testenv"
)

var (
	backquoted = regexp.MustCompile("`(cdb-setup(?: [^`\n]*)?)`")
	fixLine    = regexp.MustCompile(`fix: (cdb-setup(?: .*)?)$`)
)

// suggestedCommands extracts the suggested command lines from out.
func suggestedCommands(out string) []string {
	var cmds []string
	for _, m := range backquoted.FindAllStringSubmatch(out, -1) {
		cmds = append(cmds, m[1])
	}
	for _, line := range strings.Split(out, "\n") {
		m := fixLine.FindStringSubmatch(strings.TrimSpace(line))
		if m == nil {
			continue
		}
		c := m[1]
		// Prose after the command: "cdb-setup up (then …)", "…; or …".
		for _, sep := range []string{" (", "; ", ", ", ": ", " — ", " then ", " or "} {
			if i := strings.Index(c, sep); i >= 0 {
				c = c[:i]
			}
		}
		cmds = append(cmds, strings.TrimRight(c, ".`"))
	}
	return cmds
}

// checkSuggested parses line with the real command tree.
func checkSuggested(line string) error {
	var words []string
	for _, w := range strings.Fields(line)[1:] {
		w = strings.Trim(w, `'"`)
		switch {
		case w == "..." || w == "…":
			continue // "and so on"
		case strings.ContainsAny(w, "<>…[]"):
			w = "PLACEHOLDER"
		}
		words = append(words, w)
	}
	f := &Factory{IO: &IOStreams{In: strings.NewReader(""), Out: &bytes.Buffer{}, ErrOut: &bytes.Buffer{}}, Global: &GlobalOptions{}, Env: platform.MapEnvironment{}, Context: context.Background()}
	root := NewRootCmd(f)
	root.InitDefaultHelpCmd()
	cmd, rest, err := root.Find(words)
	if err != nil {
		return err
	}
	if err := cmd.ParseFlags(rest); errors.Is(err, pflag.ErrHelp) {
		return nil // --help needs no arguments
	} else if err != nil {
		return err
	}
	// A suggestion uses the one current spelling, never a hidden
	// deprecated alias (up --logging is up --overlay logging).
	var deprecated error
	cmd.Flags().Visit(func(fl *pflag.Flag) {
		if fl.Deprecated != "" {
			deprecated = errors.New("--" + fl.Name + " is deprecated: " + fl.Deprecated)
		}
	})
	if deprecated != nil {
		return deprecated
	}
	args := cmd.Flags().Args()
	if cmd.HasSubCommands() && len(args) == 1 && args[0] == "PLACEHOLDER" {
		return nil // `cdb-setup completion <shell>`
	}
	if cmd.HasSubCommands() && len(args) > 0 && cmd != root {
		return errors.New("unknown command " + args[0] + " for " + cmd.CommandPath())
	}
	return cmd.ValidateArgs(args)
}

func TestCheckSuggestedRejectsWrongCommands(t *testing.T) {
	for _, bad := range []string{"cdb-setup --gui", "cdb-setup secrets initt", "cdb-setup up --no-such", "cdb-setup env set --gui extra", "cdb-setup up --logging", "cdb-setup manifest prnt", "cdb-setup doctor extra"} {
		if checkSuggested(bad) == nil {
			t.Errorf("%q passes", bad)
		}
	}
	for _, good := range []string{"cdb-setup", "cdb-setup env set --gui", "cdb-setup up --profile dev", "cdb-setup secrets rotate <NAME>", "cdb-setup help secrets", "cdb-setup up cdb_redis cdb_postgres", "cdb-setup up --overlay logging", "cdb-setup manifest print", "cdb-setup down --volumes"} {
		if err := checkSuggested(good); err != nil {
			t.Errorf("%q: %v", good, err)
		}
	}
	got := suggestedCommands("✗ x\n  fix: cdb-setup secrets fix (then `cdb-setup up`).\nrun `cdb-setup env set --gui` now")
	want := []string{"cdb-setup up", "cdb-setup env set --gui", "cdb-setup secrets fix"}
	sort.Strings(got)
	sort.Strings(want)
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("extracted %q, want %q", got, want)
	}
}

func TestSuggestedCommandsRunAsPrinted(t *testing.T) {
	env, home := fixtureEnv(t)
	dir := filepath.Join(home, "s")
	notRepo := testenv.TempDir(t)
	// Docker and compose are out of reach: up and doctor take their
	// failure paths, which carry most of the fixes.
	env["DOCKER_HOST"] = "unix://" + filepath.Join(testenv.TempDir(t), "no-docker.sock")
	env["CDB_SETUP_COMPOSE"] = filepath.Join(notRepo, "no-compose")
	runs := [][]string{
		{"secrets", "check", "--secrets-path", dir},
		{"secrets", "fix", "--dry-run", "--secrets-path", dir},
		{"--yes", "--dry-run", "--secrets-path", dir},
		{"secrets", "init", "--no-input", "--secrets-path", dir},
		{"secrets", "check", "--secrets-path", dir},
		{"doctor", "--secrets-path", dir},
		{"doctor", "--offline", "--secrets-path", dir},
		{"hook", "status"},
		{"hook", "install", "--dry-run"},
		{"env", "status", "--secrets-path", dir},
		{"env", "set", "--dry-run", "--shells", "--secrets-path", dir},
		{"keychain", "status", "--secrets-path", dir},
		{"up", "--dry-run", "--secrets-path", dir},
		{"up", "--secrets-path", dir},
		{"up", "cdb_rediss", "--secrets-path", dir}, // "Did you mean `cdb-setup up cdb_redis`?"
		{"up", "--overlay", "logging", "--secrets-path", dir},
		{"up", "--logging", "--secrets-path", dir}, // the old spelling: fixes name --overlay
		{"manifest", "print"},
		{"manifest", "prnt"},
		{"--help"},
		{"down", "--dry-run"},
		{"uninstall", "--dry-run", "--secrets-path", dir},
		{"secrets", "initt"},
		{"help", "secrts"},
		{"doctor", "--repo", notRepo},
		{"secrets", "init", "--no-input", "--repo", notRepo},
		{"up", "--repo", notRepo},
		// The wizard for real, stopped by the unreachable engine before
		// any question; then everything but the stack.
		{"--yes", "--secrets-path", dir, "--persist", "none", "--hook=false"},
		{"--no-input", "--secrets-path", dir, "--persist", "none", "--hook=false", "--start=false"},
	}
	var mid [][]string
	// A damaged secret: check fails and fix repairs it.
	corrupt := func() {
		ents, _ := os.ReadDir(dir)
		for _, e := range ents {
			if !e.IsDir() {
				_ = os.WriteFile(filepath.Join(dir, e.Name()), []byte("short\n"), 0o644)
				return
			}
		}
	}
	mid = append(mid, []string{"secrets", "check", "--secrets-path", dir}, []string{"secrets", "fix", "--no-input", "--secrets-path", dir}, []string{"secrets", "check", "--secrets-path", dir})
	seen := map[string]bool{}
	collect := func(args []string) {
		r := runCLI(t, env, "", args...)
		for _, c := range suggestedCommands(r.stdout + "\n" + r.stderr) {
			if seen[c] {
				continue
			}
			seen[c] = true
			if err := checkSuggested(c); err != nil {
				t.Errorf("`cdb-setup %s` suggests %q, which does not parse: %v", strings.Join(args, " "), c, err)
			}
		}
	}
	for _, a := range runs {
		collect(a)
	}
	corrupt()
	for _, a := range mid {
		collect(a)
	}
	// The notes after persisting SECRETS_PATH, on every OS and choice.
	var notes []string
	for _, goos := range []string{"linux", "darwin", "windows"} {
		for _, gui := range []bool{false, true} {
			notes = append(notes, platform.RestartNotes(platform.PersistOptions{Facts: platform.Facts{OS: goos}, GUI: gui, WSLENV: true})...)
		}
	}
	for _, c := range suggestedCommands(strings.Join(notes, "\n")) {
		if err := checkSuggested(c); err != nil {
			t.Errorf("the SECRETS_PATH notes suggest %q, which does not parse: %v", c, err)
		}
		seen[c] = true
	}
	if !seen["cdb-setup env set --gui"] {
		t.Errorf("the notes no longer name `cdb-setup env set --gui`: %q", notes)
	}
	if len(seen) < 10 {
		t.Fatalf("only %d suggested commands collected: %v", len(seen), seen)
	}
	t.Logf("%d suggested commands checked: %v", len(seen), seen)
}

// TestSuggestedCommandsInSource checks the commands the code's messages
// suggest but the runs above do not reach: every `cdb-setup …` in
// backquotes, and every string literal that is a cdb-setup command line
// (a fix), in the non-test Go files. %s and the like stand for an argument.
func TestSuggestedCommandsInSource(t *testing.T) {
	f := &Factory{IO: &IOStreams{In: strings.NewReader(""), Out: &bytes.Buffer{}, ErrOut: &bytes.Buffer{}}, Global: &GlobalOptions{}, Env: platform.MapEnvironment{}, Context: context.Background()}
	names := map[string]bool{"help": true, "completion": true}
	for _, c := range NewRootCmd(f).Commands() {
		names[c.Name()] = true
	}
	literal := regexp.MustCompile(`"(cdb-setup (?:[^"\\]|\\.)*)"`)
	verb := regexp.MustCompile(`%[-+# 0-9.]*[a-zA-Z]`)
	checked := 0
	for _, root := range []string{"..", "../../cmd"} {
		err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
				return err
			}
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			var code []string // comments are not messages
			for _, line := range strings.Split(string(b), "\n") {
				if !strings.HasPrefix(strings.TrimSpace(line), "//") {
					code = append(code, line)
				}
			}
			src := strings.Join(code, "\n")
			var cands []string
			for _, m := range backquoted.FindAllStringSubmatch(src, -1) {
				if strings.Contains(m[1], `"`) {
					continue // built by concatenation: checked where it is printed
				}
				cands = append(cands, m[1])
			}
			for _, m := range literal.FindAllStringSubmatch(src, -1) {
				w := strings.Fields(m[1])
				if len(w) < 2 || !(names[w[1]] || strings.HasPrefix(w[1], "--")) || strings.HasSuffix(w[1], ":") {
					continue // prose: "cdb-setup cannot …", "cdb-setup hook: …"
				}
				if strings.Contains(src, "lockUnlessDryRun(f, "+m[0]+")") {
					continue // the lock holder's name, not a suggestion
				}
				c := m[1]
				for _, sep := range []string{" #", " (", "; ", ", ", ": ", " — ", " then ", " or "} {
					if i := strings.Index(c, sep); i >= 0 {
						c = c[:i]
					}
				}
				if c == m[1] && strings.HasSuffix(c, " ") {
					c += " PLACEHOLDER" // concatenated with a value
				}
				cands = append(cands, c)
			}
			for _, c := range cands {
				c = verb.ReplaceAllString(c, "PLACEHOLDER")
				// "push|pull|status": each alternative is a command.
				for _, alt := range alternatives(c) {
					checked++
					if err := checkSuggested(alt); err != nil {
						t.Errorf("%s suggests %q, which does not parse: %v", p, alt, err)
					}
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if checked < 50 {
		t.Fatalf("only %d suggested commands found in the source", checked)
	}
}

// alternatives expands the one word of line holding a|b|c.
func alternatives(line string) []string {
	w := strings.Fields(line)
	for i, x := range w {
		if strings.Contains(x, "|") {
			var out []string
			for _, a := range strings.Split(x, "|") {
				v := append(append([]string(nil), w[:i]...), a)
				out = append(out, strings.Join(append(v, w[i+1:]...), " "))
			}
			return out
		}
	}
	return []string{line}
}
