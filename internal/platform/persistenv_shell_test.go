//go:build !windows

package platform

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/claire-de-binare/cdb-setup/internal/step"
	"github.com/claire-de-binare/cdb-setup/internal/testenv"
)

// shellHome is a user's home in a temp folder with an environment that
// carries nothing of this process (no SECRETS_PATH, no rc influences), the
// way a new terminal starts.
type shellHome struct {
	home  string
	env   MapEnvironment
	facts Facts
	state *State
	sdir  string
}

func newShellHome(t *testing.T, loginShell string) *shellHome {
	t.Helper()
	home := t.TempDir()
	sdir := filepath.Join(t.TempDir(), "state")
	// fish creates its data folder when it starts; keep that out of the home
	// whose folders the tests compare.
	env := MapEnvironment{"HOME": home, "PATH": os.Getenv("PATH"), "USER": "tester", "LOGNAME": "tester", "SHELL": loginShell,
		"XDG_DATA_HOME": t.TempDir()}
	st, err := LoadState(sdir)
	if err != nil {
		t.Fatal(err)
	}
	return &shellHome{home: home, env: env, state: st, sdir: sdir,
		facts: Facts{OS: runtime.GOOS, Home: home, Documents: filepath.Join(home, "Documents"), LoginShell: loginShell}}
}

func (h *shellHome) write(t *testing.T, rel, content string) {
	t.Helper()
	p := filepath.Join(h.home, rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o640); err != nil {
		t.Fatal(err)
	}
}

func (h *shellHome) opts(value string) PersistOptions {
	return PersistOptions{Value: value, Facts: h.facts, Env: h.env, State: h.state, StateDir: h.sdir, Shells: true,
		Run: func(context.Context, string, ...string) ([]byte, error) {
			return nil, errors.New("no external programs in this test")
		}}
}

// snapshot reads every regular file under dir (through symlinks), every
// link target and every folder, so "byte-identical" covers all three.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		switch {
		case d.IsDir():
			out[rel] = "dir"
		case d.Type()&fs.ModeSymlink != 0:
			l, _ := os.Readlink(p)
			out[rel] = "symlink -> " + l
		case d.Type().IsRegular():
			b, _ := os.ReadFile(p)
			fi, _ := d.Info()
			out[rel] = fi.Mode().String() + "\n" + string(b)
		}
		return nil
	})
	return out
}

// shellSees runs a real shell the way a new terminal would and returns the
// SECRETS_PATH it ends up with.
func shellSees(t *testing.T, env MapEnvironment, shell string, args ...string) (string, bool) {
	t.Helper()
	path := testenv.NeedCommand(t, shell)
	probe := shProbe
	if shell == "fish" {
		probe = fishProbe
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, append(args, probe)...)
	cmd.Env = ShellEnv(env)
	cmd.Dir = env["HOME"]
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %v: %v\n%s", shell, args, err, errb.String())
	}
	s := out.String()
	i := strings.Index(s, probeStart)
	if i < 0 {
		return "", false
	}
	s = s[i+len(probeStart):]
	j := strings.Index(s, probeEnd)
	if j < 0 {
		t.Fatalf("%s: unterminated probe output %q", shell, out.String())
	}
	return s[:j], true
}

func undoAll(t *testing.T, h *shellHome) {
	t.Helper()
	uc := UndoContext{Facts: h.facts, Env: h.env}
	recorded := map[string]bool{}
	for _, r := range h.state.Records {
		recorded[r.Target] = true
	}
	steps := UndoSteps(h.state, h.state.Records, EnvUndoers(), uc)
	steps = append(steps, EnvCandidateSteps(uc, recorded)...)
	runAll(t, steps)
	if len(h.state.Records) != 0 {
		t.Errorf("records left after undo: %+v", h.state.Records)
	}
}

// TestEnvSetRealShells is the acceptance test: after env set, real
// bash (login and interactive), zsh, sh (dash) and fish print the value; after
// undo every file is byte for byte what it was, including a file without a
// final newline, a CRLF file, a symlinked (stow-style) dotfile and a user's
// own conda-style block.
func TestEnvSetRealShells(t *testing.T) {
	for _, sh := range []string{"bash", "zsh", "sh", "fish"} {
		testenv.NeedCommand(t, sh)
	}
	h := newShellHome(t, "/bin/bash")
	// A value with a space, a single and a double quote and a $: every
	// quoting layer must keep it literal.
	value := filepath.Join(h.home, "Documents", `it's a "$HOME" folder`, ".cdb")
	h.write(t, ".profile", "# my profile\nexport EDITOR=vi") // no final newline
	h.write(t, ".bash_profile", "[ -f ~/.bashrc ] && . ~/.bashrc\n")
	h.write(t, ".bashrc", "alias ll='ls -l'\r\n"+
		"# >>> conda initialize >>>\r\n    # !! Contents within this block are managed by 'conda init' !!\r\n    export CONDA_X=1\r\n# <<< conda initialize <<<\r\n")
	h.write(t, "dotfiles/zsh/.zshenv", "setopt no_beep") // stow target, no final newline
	if err := os.Symlink(filepath.Join("dotfiles", "zsh", ".zshenv"), filepath.Join(h.home, ".zshenv")); err != nil {
		t.Fatal(err)
	}
	// As root (sudo cdb-setup, CI), a user's file must stay the user's.
	if os.Geteuid() == 0 {
		if err := os.Chown(filepath.Join(h.home, ".bashrc"), 1234, 1234); err != nil {
			t.Fatal(err)
		}
	}
	before := snapshot(t, h.home)
	bashrcOrig, _ := os.ReadFile(filepath.Join(h.home, ".bashrc"))

	steps, err := PersistEnvSteps(h.opts(value))
	if err != nil {
		t.Fatal(err)
	}
	runAll(t, steps)
	if os.Geteuid() == 0 {
		fi, _ := os.Stat(filepath.Join(h.home, ".bashrc"))
		if st := fi.Sys().(*syscall.Stat_t); st.Uid != 1234 || st.Gid != 1234 {
			t.Errorf(".bashrc owner changed to %d:%d", st.Uid, st.Gid)
		}
	}
	rec, ok := findRecord(h.state, KindRCBlock, filepath.Join(h.home, ".bashrc"))
	if b, err := os.ReadFile(rec.Data["backup"]); !ok || err != nil || !bytes.Equal(b, bashrcOrig) {
		t.Errorf("backup of .bashrc = %q, %v (record %+v)", b, err, rec)
	}

	for _, c := range []struct {
		shell string
		args  []string
	}{
		{"bash", []string{"-lc"}},
		{"bash", []string{"-ic"}},
		{"zsh", []string{"-c"}},
		{"zsh", []string{"-lc"}},
		{"sh", []string{"-lc"}},
		{"fish", []string{"-c"}},
		{"fish", []string{"-l", "-c"}},
	} {
		got, ok := shellSees(t, h.env, c.shell, c.args...)
		if !ok || got != value {
			t.Errorf("%s %v sees SECRETS_PATH=%q (set %v), want %q", c.shell, c.args, got, ok, value)
		}
	}
	if fi, err := os.Lstat(filepath.Join(h.home, ".zshenv")); err != nil || fi.Mode()&fs.ModeSymlink == 0 {
		t.Errorf("~/.zshenv is no longer a symlink: %v %v", fi.Mode(), err)
	}
	if fi, _ := os.Stat(filepath.Join(h.home, ".bashrc")); fi.Mode().Perm() != 0o640 {
		t.Errorf(".bashrc mode changed to %v", fi.Mode())
	}
	b, _ := os.ReadFile(filepath.Join(h.home, ".bashrc"))
	if bytes.Count(b, []byte("\n")) != bytes.Count(b, []byte("\r\n")) {
		t.Errorf(".bashrc got LF lines in a CRLF file: %q", b)
	}

	// status: the real shells, run by ProbeShells, agree; nothing is stale.
	so := StatusOptions{Facts: h.facts, Env: h.env, Expected: value}
	for _, v := range ProbeShells(context.Background(), so) {
		if v.Shell == "pwsh" {
			continue
		}
		if !v.Set || v.Value != value {
			t.Errorf("status: %s (%s) sees %q set=%v err=%s", v.Shell, v.Mode, v.Value, v.Set, v.Error)
		}
	}
	for _, p := range EnvPlaces(so) {
		if p.Stale {
			t.Errorf("status flags %s:%d as stale: %q", p.Where, p.Line, p.Text)
		}
	}

	// A second set changes nothing.
	steps, _ = PersistEnvSteps(h.opts(value))
	for _, r := range runAll(t, steps).Results {
		if r.Status == step.StatusChanged {
			t.Errorf("second env set changed %s: %s", r.Step, r.Detail)
		}
	}

	undoAll(t, h)
	after := snapshot(t, h.home)
	for k, v := range before {
		if after[k] != v {
			t.Errorf("%s differs after undo:\n got %q\nwant %q", k, after[k], v)
		}
	}
	for k, v := range after {
		if _, ok := before[k]; !ok {
			t.Errorf("%s left behind after undo: %q", k, v)
		}
	}
	if got, ok := shellSees(t, h.env, "bash", "-lc"); ok {
		t.Errorf("after undo bash -lc still sees %q", got)
	}
}

// TestEnvSetZDOTDIR: with ZDOTDIR set, zsh reads $ZDOTDIR/.zshenv, not
// ~/.zshenv; the block goes there.
func TestEnvSetZDOTDIR(t *testing.T) {
	testenv.NeedCommand(t, "zsh")
	h := newShellHome(t, "/usr/bin/zsh")
	zd := filepath.Join(h.home, ".config", "zsh")
	if err := os.MkdirAll(zd, 0o755); err != nil {
		t.Fatal(err)
	}
	h.env["ZDOTDIR"] = zd
	value := filepath.Join(h.home, "Documents", ".secrets", ".cdb")
	before := snapshot(t, h.home)
	steps, err := PersistEnvSteps(h.opts(value))
	if err != nil {
		t.Fatal(err)
	}
	runAll(t, steps)
	if _, err := os.Stat(filepath.Join(zd, ".zshenv")); err != nil {
		t.Fatalf("$ZDOTDIR/.zshenv not written: %v", err)
	}
	for _, args := range [][]string{{"-c"}, {"-lc"}, {"-ic"}} {
		if got, ok := shellSees(t, h.env, "zsh", args...); !ok || got != value {
			t.Errorf("zsh %v with ZDOTDIR sees %q (set %v)", args, got, ok)
		}
	}
	undoAll(t, h)
	after := snapshot(t, h.home)
	if len(after) != len(before) {
		t.Errorf("files left behind: %v", after)
	}
}

// TestEnvSetRefusesBadFiles: each bad input fails in Plan, before any file
// is written, with a message that names the file and the fix.
func TestEnvSetRefusesBadFiles(t *testing.T) {
	cases := []struct {
		name  string
		setup func(t *testing.T, h *shellHome)
		want  string
	}{
		{"rc file is a folder", func(t *testing.T, h *shellHome) {
			os.MkdirAll(filepath.Join(h.home, ".bashrc"), 0o755)
		}, "is a folder"},
		{"read-only rc file", func(t *testing.T, h *shellHome) {
			h.write(t, ".bash_profile", "x\n")
			os.Chmod(filepath.Join(h.home, ".bash_profile"), 0o444)
		}, "read-only"},
		{"unterminated markers", func(t *testing.T, h *shellHome) {
			h.write(t, ".bashrc", "a\n"+BlockBegin+"\nexport SECRETS_PATH=/x\n")
		}, "never closed"},
		{"duplicate blocks", func(t *testing.T, h *shellHome) {
			blk := BlockBegin + "\n" + BlockEnd + "\n"
			h.write(t, ".bashrc", blk+blk)
		}, "a second"},
		{"broken symlink", func(t *testing.T, h *shellHome) {
			os.Symlink("nowhere/.bashrc", filepath.Join(h.home, ".bashrc"))
		}, "symlink"},
		{"foreign fish file", func(t *testing.T, h *shellHome) {
			h.write(t, ".config/fish/conf.d/cdb-setup.fish", "set -gx FOO 1\n")
		}, "not written by cdb-setup"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newShellHome(t, "/bin/bash")
			h.write(t, ".profile", "keep\n")
			c.setup(t, h)
			before := snapshot(t, h.home)
			o := h.opts("/tmp/x")
			o.LookPath = func(n string) (string, error) { return "/usr/bin/" + n, nil }
			steps, err := PersistEnvSteps(o)
			if err != nil {
				t.Fatal(err)
			}
			rep, err := step.Run(context.Background(), steps, step.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if !rep.Failed() {
				t.Fatal("expected a failure")
			}
			var msg string
			for _, r := range rep.Results {
				if r.Status == step.StatusFailed {
					msg = r.Detail + " / " + r.Fix
				}
			}
			if !strings.Contains(msg, c.want) {
				t.Errorf("message %q does not say %q", msg, c.want)
			}
			after := snapshot(t, h.home)
			for k, v := range before {
				if after[k] != v {
					t.Errorf("%s changed although the run failed", k)
				}
			}
			if len(h.state.Records) != 0 {
				t.Errorf("records written although nothing changed: %+v", h.state.Records)
			}
		})
	}
}

func TestEnvSetMissingHome(t *testing.T) {
	h := newShellHome(t, "/bin/bash")
	h.facts.Home = filepath.Join(h.home, "gone")
	_, err := PersistEnvSteps(h.opts("/tmp/x"))
	if err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("err = %v", err)
	}
}

// TestStaleAssignmentFlagged: an old export outside our block is pointed at
// by file and line.
func TestStaleAssignmentFlagged(t *testing.T) {
	h := newShellHome(t, "/bin/bash")
	h.write(t, ".bashrc", "# old setup\nexport SECRETS_PATH=~/.secrets/.cdb\n")
	steps, err := PersistEnvSteps(h.opts(filepath.Join(h.home, "Documents", ".secrets", ".cdb")))
	if err != nil {
		t.Fatal(err)
	}
	runAll(t, steps)
	var stale []EnvPlace
	for _, p := range EnvPlaces(StatusOptions{Facts: h.facts, Env: h.env, Expected: filepath.Join(h.home, "Documents", ".secrets", ".cdb")}) {
		if p.Stale {
			stale = append(stale, p)
		}
	}
	if len(stale) != 1 || stale[0].Line != 2 || stale[0].Value != filepath.Join(h.home, ".secrets", ".cdb") || !strings.HasSuffix(stale[0].Where, ".bashrc") {
		t.Errorf("stale = %+v", stale)
	}
}
