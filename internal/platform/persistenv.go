package platform

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/claire-de-binare/cdb-setup/internal/step"
)

// EnvVar is the one variable cdb-setup persists.
const EnvVar = "SECRETS_PATH"

// Markers of our block in shell rc files and the compose .env. Conda-style,
// so users recognise it; the name makes it distinct from any other tool's.
const (
	BlockBegin = "# >>> cdb-setup SECRETS_PATH >>>"
	BlockEnd   = "# <<< cdb-setup SECRETS_PATH <<<"
	blockNote  = "# Added by cdb-setup (folder of the CDB stack's secrets); `cdb-setup env unset` removes this block."
)

// Runner runs an external program (launchctl) and returns its combined
// output. Injected so macOS plans are tested on any machine.
type Runner func(ctx context.Context, name string, args ...string) ([]byte, error)

// ExecRunner runs programs for real, bounded by a timeout.
func ExecRunner(ctx context.Context, name string, args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	return exec.CommandContext(ctx, name, args...).CombinedOutput()
}

// PersistOptions say where SECRETS_PATH should be persisted for this user.
type PersistOptions struct {
	Value string
	Facts Facts
	Env   Environment
	// State records every change (nil: plan only). StateDir holds backups.
	State    *State
	StateDir string

	Shells bool // rc files, fish (Unix); the user environment in the registry (Windows)
	GUI    bool // environment.d (Linux), LaunchAgent + launchctl setenv (macOS)
	WSLENV bool // Windows: add SECRETS_PATH/p to WSLENV
	// ComposeEnv is the compose project's .env to write, or "" for none. The
	// caller confirms it is git-ignored first.
	ComposeEnv string

	Run     Runner       // default ExecRunner
	UserEnv UserEnvStore // default: the registry on Windows
	// LookPath finds a program on the Env's PATH (default: searches Env PATH).
	LookPath func(name string) (string, error)
}

func (o *PersistOptions) defaults() {
	if o.Run == nil {
		o.Run = ExecRunner
	}
	if o.UserEnv == nil {
		o.UserEnv = DefaultUserEnv()
	}
	if o.LookPath == nil {
		env := o.Env
		o.LookPath = func(name string) (string, error) { return LookPathIn(env, name) }
	}
}

// LookPathIn finds name in env's PATH rather than this process's, so a
// test's injected environment decides which shells exist.
func LookPathIn(env Environment, name string) (string, error) {
	for _, dir := range filepath.SplitList(env.Getenv("PATH")) {
		if dir == "" {
			continue
		}
		p := filepath.Join(dir, name)
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s: %w", name, exec.ErrNotFound)
}

// ShellBlock is the block for POSIX shells (sh, bash, zsh). The trailing
// comment matters: in a CRLF rc file (edited on Windows, kept CRLF by the
// editor) shells do not strip the \r, and the comment swallows it instead of
// the value.
func ShellBlock(value string) Block {
	return Block{Begin: BlockBegin, End: BlockEnd, Body: []string{blockNote, "export " + EnvVar + "=" + ShellQuote(value) + " # managed by cdb-setup"}}
}

// rcFile is a shell startup file and whether to create it when missing.
type rcFile struct {
	Path   string
	Create bool
	What   string
}

// ShellRCFiles chooses the rc files that make every kind of new shell see
// the variable. ~/.profile serves sh/dash and login shells without a
// bash-specific file; bash reads .bash_profile or .bash_login instead of
// .profile when they exist, and .bashrc for interactive non-login shells;
// zsh reads .zshenv for every shell, from ZDOTDIR when that is set.
func ShellRCFiles(f Facts, env Environment, lookPath func(string) (string, error)) []rcFile {
	home := f.Home
	exists := func(p string) bool { _, err := os.Lstat(p); return err == nil }
	login := filepath.Base(f.LoginShell)
	files := []rcFile{{Path: filepath.Join(home, ".profile"), Create: true, What: "sh and login shells"}}
	for _, n := range []string{".bash_profile", ".bash_login"} {
		if p := filepath.Join(home, n); exists(p) {
			files = append(files, rcFile{Path: p, What: "bash login shells"})
		}
	}
	files = append(files, rcFile{Path: filepath.Join(home, ".bashrc"), Create: login == "bash", What: "interactive bash"})
	_, zshErr := lookPath("zsh")
	zsh := login == "zsh" || zshErr == nil
	if zd := env.Getenv("ZDOTDIR"); zd != "" && filepath.Clean(zd) != filepath.Clean(home) {
		files = append(files, rcFile{Path: filepath.Join(zd, ".zshenv"), Create: zsh, What: "every zsh (ZDOTDIR)"})
		// ~/.zshenv is still read when ZDOTDIR is set there rather than in
		// the environment; keep an existing one in step.
		files = append(files, rcFile{Path: filepath.Join(home, ".zshenv"), What: "every zsh"})
	} else {
		files = append(files, rcFile{Path: filepath.Join(home, ".zshenv"), Create: zsh, What: "every zsh"})
	}
	return files
}

func configHome(f Facts, env Environment) string {
	if d := env.Getenv("XDG_CONFIG_HOME"); d != "" && filepath.IsAbs(d) {
		return d
	}
	return filepath.Join(f.Home, ".config")
}

// FishConfPath is the file cdb-setup owns in fish's conf.d.
func FishConfPath(f Facts, env Environment) string {
	return filepath.Join(configHome(f, env), "fish", "conf.d", "cdb-setup.fish")
}

// EnvironmentDPath is the file cdb-setup owns in systemd's environment.d
// (read by the user manager, so GUI sessions started after the next login).
func EnvironmentDPath(f Facts, env Environment) string {
	return filepath.Join(configHome(f, env), "environment.d", "60-cdb-setup.conf")
}

func fishContent(value string) []byte {
	return []byte("# " + OwnedHeader + " (folder of the CDB stack's secrets); `cdb-setup env unset` removes this file.\n" +
		"set -gx " + EnvVar + " " + FishQuote(value) + "\n")
}

func environmentDContent(value string) ([]byte, error) {
	v, err := environmentDValue(value)
	if err != nil {
		return nil, err
	}
	return []byte("# " + OwnedHeader + " (folder of the CDB stack's secrets); `cdb-setup env unset` removes this file.\n" +
		EnvVar + "=\"" + v + "\"\n"), nil
}

// ComposeEnvBlock is the block written into the compose project's .env.
func ComposeEnvBlock(value string) (Block, error) {
	v, err := composeEnvValue(value)
	if err != nil {
		return Block{}, err
	}
	return Block{Begin: BlockBegin, End: BlockEnd, Body: []string{blockNote, EnvVar + "=" + v}}, nil
}

// checkHome refuses to create dotfiles under a home that does not exist:
// that is a misconfigured HOME, and files written there would be lost.
func checkHome(home string) error {
	fi, err := os.Stat(home)
	if errors.Is(err, fs.ErrNotExist) {
		return step.WithFix(fmt.Errorf("home folder %s does not exist", home),
			"set HOME to your real home folder, then run again")
	}
	if err != nil {
		return fmt.Errorf("home folder %s: %w", home, err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("home folder %s is not a folder", home)
	}
	return nil
}

// PersistEnvSteps returns the steps that make SECRETS_PATH=o.Value visible to
// every new shell (and, opted in, GUI programs, WSL and compose). The wizard
// and `cdb-setup env set` run the same steps.
func PersistEnvSteps(o PersistOptions) ([]step.Step, error) {
	o.defaults()
	if err := CheckValue(o.Value); err != nil {
		return nil, err
	}
	var steps []step.Step
	if o.Facts.OS == "windows" {
		if o.Shells {
			steps = append(steps, &registryStep{o: o})
		}
		if o.WSLENV {
			steps = append(steps, &wslenvStep{o: o})
		}
	} else {
		if err := checkHome(o.Facts.Home); err != nil {
			return nil, err
		}
		if o.Shells {
			for _, rc := range ShellRCFiles(o.Facts, o.Env, o.LookPath) {
				steps = append(steps, &blockFileStep{
					id: "env.rc." + filepath.Base(rc.Path), kind: KindRCBlock, path: rc.Path,
					block: ShellBlock(o.Value), create: rc.Create, stateDir: o.StateDir, state: o.State, what: rc.What,
				})
			}
			if _, err := o.LookPath("fish"); err == nil || filepath.Base(o.Facts.LoginShell) == "fish" || dirExists(filepath.Join(configHome(o.Facts, o.Env), "fish")) {
				steps = append(steps, &ownedFileStep{id: "env.fish", kind: KindFishConf, path: FishConfPath(o.Facts, o.Env),
					content: fishContent(o.Value), state: o.State, what: "fish reads conf.d at every start"})
			}
		}
		if o.GUI {
			switch o.Facts.OS {
			case "darwin":
				steps = append(steps, LaunchAgentSteps(o)...)
			default:
				c, err := environmentDContent(o.Value)
				if err != nil {
					return nil, err
				}
				steps = append(steps, &ownedFileStep{id: "env.environment.d", kind: KindEnvironmentD, path: EnvironmentDPath(o.Facts, o.Env),
					content: c, state: o.State, what: "programs started from your desktop after the next login"})
			}
		}
	}
	if o.ComposeEnv != "" {
		b, err := ComposeEnvBlock(o.Value)
		if err != nil {
			return nil, err
		}
		steps = append(steps, &blockFileStep{id: "env.compose-env", kind: KindComposeEnv, path: o.ComposeEnv,
			block: b, create: true, stateDir: o.StateDir, state: o.State, what: "docker compose run from any shell"})
	}
	return steps, nil
}

func dirExists(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}

// RestartNotes says, in plain sentences, which running programs will not see
// the new value and what to do about it.
func RestartNotes(o PersistOptions) []string {
	var n []string
	switch o.Facts.OS {
	case "windows":
		n = append(n,
			"New programs, new Windows Terminal tabs and new PowerShell windows see SECRETS_PATH now.",
			"Programs already running keep their old environment: close VS Code completely (every window) and start it again; the same for other IDEs.",
		)
		if o.WSLENV {
			n = append(n, "WSL shells opened from a new terminal tab see it, translated to its /mnt/... path (WSLENV).")
		}
	default:
		n = append(n, "Open a new terminal (or run `. ~/.profile`): shells that are already open keep their old environment.")
		if o.GUI && o.Facts.OS == "darwin" {
			n = append(n, "Programs started from now on see it; quit and reopen VS Code and Docker Desktop if they are running.")
		} else if o.GUI {
			n = append(n, "Programs started from your desktop (VS Code from the menu) see it after you log out and back in.")
		} else {
			n = append(n, "VS Code started from the desktop menu may not see it until you log out and back in, or start it from a terminal (`code .`); `cdb-setup env set --gui` sets it for desktop programs too.")
		}
	}
	return n
}
