package hook

import (
	"bytes"
	"context"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/claire-de-binare/cdb-setup/internal/exitcode"
	"github.com/claire-de-binare/cdb-setup/internal/platform"
	"github.com/claire-de-binare/cdb-setup/internal/step"
	"github.com/claire-de-binare/cdb-setup/internal/testenv"
)

func TestNativeHookBlocksLeaksWithRepoConfig(t *testing.T) {
	for _, cfg := range []string{"gitleaks.toml", ".gitleaks.toml"} {
		t.Run(cfg, func(t *testing.T) {
			env := hermeticEnv(t, needGitleaks(t))
			dir := newRepo(t, env, cfg)
			state := newState(t)
			mustSucceed(t, install(t, Options{Repo: dir, Env: env, State: state}))
			hookPath := filepath.Join(dir, ".git", "hooks", "pre-commit")
			assertHookBytes(t, hookPath)
			if n := len(state.Find(Kind)); n != 1 {
				t.Fatalf("%d hook records, want 1", n)
			}

			if out, code := commit(t, env, dir, map[string]string{"notes.txt": "nothing secret here\n"}); code != 0 {
				t.Fatalf("clean commit blocked (exit %d): %s", code, out)
			}

			secret := fakeSecret(t, 40)
			out, code := commit(t, env, dir, map[string]string{"config.env": "POSTGRES_PASSWORD=" + secret + "\n"})
			if code != 1 {
				t.Fatalf("commit with a staged leak: exit %d, want 1", code)
			}
			assertRedacted(t, out, secret)
			if !strings.Contains(out, "config.env:1: gitleaks rule") || !strings.Contains(out, "commit blocked") {
				t.Errorf("hook output lacks the finding's file and line or the explanation")
			}
			gitRun(t, env, dir, "reset", "-q", "--", "config.env")
			os.Remove(filepath.Join(dir, "config.env"))

			// Only the repository's own rule knows this one: blocked only
			// when the hook passes --config.
			key := "CDBX_" + fakeSecret(t, 32)
			out, code = commit(t, env, dir, map[string]string{"exchange.txt": "key " + key + "\n"})
			if code != 1 {
				t.Fatalf("commit with a leak only %s knows: exit %d, want 1", cfg, code)
			}
			assertRedacted(t, out, key)
			if !strings.Contains(out, "cdb-fixture-exchange-key") {
				t.Errorf("the finding does not name the project rule")
			}
		})
	}
}

func TestForeignHookChainedAndRestored(t *testing.T) {
	env := hermeticEnv(t, needGitleaks(t))
	dir := newRepo(t, env, "gitleaks.toml")
	hookPath := filepath.Join(dir, ".git", "hooks", "pre-commit")
	// No final newline, unusual mode: uninstall must restore both exactly.
	foreign := "#!/bin/sh\necho foreign >> \"$(git rev-parse --git-dir)/foreign-ran\"\nexit ${FOREIGN_EXIT:-0}"
	writeFile(t, hookPath, foreign, 0o750)
	state := newState(t)
	opts := Options{Repo: dir, Env: env, State: state}
	mustSucceed(t, install(t, opts))
	assertHookBytes(t, hookPath)
	if got := readBytes(t, hookPath+ChainedSuffix); string(got) != foreign {
		t.Fatalf("chained hook bytes differ")
	}

	if out, code := commit(t, env, dir, map[string]string{"a.txt": "a\n"}); code != 0 {
		t.Fatalf("clean commit: exit %d: %s", code, out)
	}
	if b, err := os.ReadFile(filepath.Join(dir, ".git", "foreign-ran")); err != nil || string(b) != "foreign\n" {
		t.Fatalf("the foreign hook did not run once: %q %v", b, err)
	}

	env2 := maps.Clone(env)
	env2["FOREIGN_EXIT"] = "3"
	if _, code := commit(t, env2, dir, map[string]string{"b.txt": "b\n"}); code == 0 {
		t.Fatalf("a failing foreign hook did not block the commit")
	}

	// Install twice: nothing changes, nothing is duplicated.
	before := readBytes(t, hookPath)
	rep := install(t, opts)
	mustSucceed(t, rep)
	for _, r := range rep.Results {
		if r.Status != step.StatusDone {
			t.Errorf("second install: step %s is %s, want done", r.Step, r.Status)
		}
	}
	if !bytes.Equal(before, readBytes(t, hookPath)) {
		t.Errorf("second install changed the hook")
	}
	if n := len(state.Find(Kind)); n != 1 {
		t.Errorf("%d records after installing twice, want 1", n)
	}
	if m, _ := filepath.Glob(hookPath + ".cdb-setup*"); len(m) != 1 {
		t.Errorf("hook files after installing twice: %v", m)
	}

	mustSucceed(t, uninstall(t, opts))
	if got := readBytes(t, hookPath); string(got) != foreign {
		t.Fatalf("uninstall did not restore the original bytes")
	}
	if st, _ := os.Stat(hookPath); st.Mode().Perm() != 0o750 {
		t.Errorf("restored mode %v, want 0750", st.Mode().Perm())
	}
	if _, err := os.Lstat(hookPath + ChainedSuffix); err == nil {
		t.Errorf("chained copy left behind")
	}
	if n := len(state.Find(Kind)); n != 0 {
		t.Errorf("%d records after uninstall", n)
	}
}

func TestUninstallWithoutForeignHookRemovesOurs(t *testing.T) {
	env := hermeticEnv(t, needGitleaks(t))
	dir := newRepo(t, env, "")
	// No state: uninstall still finds our hook by its marker.
	opts := Options{Repo: dir, Env: env}
	mustSucceed(t, install(t, opts))
	hookPath := filepath.Join(dir, ".git", "hooks", "pre-commit")
	mustSucceed(t, uninstall(t, opts))
	if _, err := os.Lstat(hookPath); err == nil {
		t.Fatalf("hook still there after uninstall")
	}
	rep := uninstall(t, opts)
	if len(rep.Results) != 1 || rep.Results[0].Status != step.StatusDone {
		t.Errorf("second uninstall: %+v", rep.Results)
	}
}

func TestCoreHooksPath(t *testing.T) {
	env := hermeticEnv(t, needGitleaks(t))
	dir := newRepo(t, env, "gitleaks.toml")
	shared := filepath.Join(testenv.TempDir(t), "shared-hooks")
	gitRun(t, env, dir, "config", "core.hooksPath", shared)
	mustSucceed(t, install(t, Options{Repo: dir, Env: env}))
	assertHookBytes(t, filepath.Join(shared, "pre-commit"))
	if _, err := os.Lstat(filepath.Join(dir, ".git", "hooks", "pre-commit")); err == nil {
		t.Errorf("hook written to .git/hooks although core.hooksPath is set")
	}
	secret := fakeSecret(t, 40)
	out, code := commit(t, env, dir, map[string]string{"c.env": "POSTGRES_PASSWORD=" + secret + "\n"})
	if code != 1 {
		t.Fatalf("leak not blocked with core.hooksPath: exit %d", code)
	}
	assertRedacted(t, out, secret)
}

func TestLinkedWorktree(t *testing.T) {
	env := hermeticEnv(t, needGitleaks(t))
	dir := newRepo(t, env, "gitleaks.toml")
	wt := filepath.Join(filepath.Dir(dir), "linked")
	gitRun(t, env, dir, "worktree", "add", "-q", "-b", "side", wt)
	mustSucceed(t, install(t, Options{Repo: wt, Env: env}))
	// Hooks are shared: they live in the main repository's hooks folder.
	assertHookBytes(t, filepath.Join(dir, ".git", "hooks", "pre-commit"))
	if out, code := commit(t, env, wt, map[string]string{"ok.txt": "fine\n"}); code != 0 {
		t.Fatalf("clean commit in a linked worktree: exit %d: %s", code, out)
	}
	secret := fakeSecret(t, 40)
	out, code := commit(t, env, wt, map[string]string{"w.env": "POSTGRES_PASSWORD=" + secret + "\n"})
	if code != 1 {
		t.Fatalf("leak not blocked in a linked worktree: exit %d", code)
	}
	assertRedacted(t, out, secret)
}

func TestGitleaksPathFallsBackToPATH(t *testing.T) {
	real := needGitleaks(t)
	// Install with gitleaks reachable only through a link that then goes
	// away (a GUI client's PATH differs from the terminal's).
	alt := testenv.TempDir(t)
	if err := os.Symlink(filepath.Join(real, "gitleaks"), filepath.Join(alt, "gitleaks")); err != nil {
		t.Fatal(err)
	}
	env := hermeticEnv(t, alt)
	dir := newRepo(t, env, "gitleaks.toml")
	mustSucceed(t, install(t, Options{Repo: dir, Env: env}))
	if !bytes.Contains(readBytes(t, filepath.Join(dir, ".git", "hooks", "pre-commit")), []byte(filepath.Join(alt, "gitleaks"))) {
		t.Fatalf("hook does not record the absolute gitleaks path")
	}
	os.Remove(filepath.Join(alt, "gitleaks"))
	env["PATH"] = real + string(os.PathListSeparator) + env["PATH"]
	secret := fakeSecret(t, 40)
	out, code := commit(t, env, dir, map[string]string{"x.env": "POSTGRES_PASSWORD=" + secret + "\n"})
	if code != 1 {
		t.Fatalf("leak not blocked via PATH fallback: exit %d", code)
	}
	assertRedacted(t, out, secret)

	// No gitleaks anywhere: the hook fails closed and says why.
	env["PATH"] = strings.Join(strings.Split(env["PATH"], string(os.PathListSeparator))[1:], string(os.PathListSeparator))
	out, code = runCmd(t, env, dir, "git", "commit", "-m", "x")
	if code == 0 || !strings.Contains(out, "gitleaks was not found") {
		t.Fatalf("commit without gitleaks: exit %d, output lacks the explanation", code)
	}
}

// TestOldGitleaksFallsBackToProtect uses a stand-in gitleaks (a shell
// script) because only v8.30.1 is installed: it proves the hook's version
// dispatch, not gitleaks 8.18 itself.
func TestOldGitleaksFallsBackToProtect(t *testing.T) {
	fake := testenv.TempDir(t)
	log := filepath.Join(fake, "args")
	writeFile(t, filepath.Join(fake, "gitleaks"), `#!/bin/sh
case "$1" in
version) echo v8.18.1; exit 0;;
git) exit 1;;
esac
echo "$@" > `+platform.ShellQuote(log)+`
exit 0
`, 0o755)
	env := hermeticEnv(t, fake)
	dir := newRepo(t, env, "gitleaks.toml")
	rep := install(t, Options{Repo: dir, Env: env})
	mustSucceed(t, rep)
	if !strings.Contains(rep.Results[0].Detail, "8.19") {
		t.Errorf("no warning about gitleaks older than 8.19: %s", rep.Results[0].Detail)
	}
	if out, code := commit(t, env, dir, map[string]string{"a.txt": "a\n"}); code != 0 {
		t.Fatalf("commit: exit %d: %s", code, out)
	}
	// No --verbose (it can print the value); the JSON report goes into
	// the git folder, named by the hook's process id.
	got := strings.Fields(strings.TrimSpace(string(readBytes(t, log))))
	if len(got) != 9 || strings.Join(got[:6], " ") != "protect --staged --redact --report-format json --report-path" ||
		!strings.HasPrefix(got[6], ".git/cdb-setup-gitleaks-report.") || strings.Join(got[7:], " ") != "--config gitleaks.toml" {
		t.Fatalf("old gitleaks called with %q", got)
	}
}

func TestBadInput(t *testing.T) {
	glDir := needGitleaks(t)
	ctx := context.Background()

	t.Run("not a git repo", func(t *testing.T) {
		env := hermeticEnv(t, glDir)
		_, err := InstallSteps(ctx, Options{Repo: testenv.TempDir(t), Env: env})
		if err == nil || exitcode.From(err) != exitcode.Environment || !strings.Contains(err.Error(), "not inside a git repository") {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("bare repo", func(t *testing.T) {
		env := hermeticEnv(t, glDir)
		bare := filepath.Join(testenv.TempDir(t), "bare.git")
		gitRun(t, env, "", "init", "-q", "--bare", bare)
		_, err := InstallSteps(ctx, Options{Repo: bare, Env: env})
		if err == nil || exitcode.From(err) != exitcode.Environment || !strings.Contains(err.Error(), "bare") {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("hooks folder not writable", func(t *testing.T) {
		env := hermeticEnv(t, glDir)
		dir := newRepo(t, env, "")
		hooks := filepath.Join(dir, ".git", "hooks")
		if os.Geteuid() != 0 {
			if err := os.Chmod(hooks, 0o555); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { os.Chmod(hooks, 0o755) })
		} else {
			// chmod does not stop root: the chmod case runs as nobody,
			// and as root a regular file where the folder should be
			// makes it unwritable for everyone.
			testenv.RerunUnprivileged(t)
			if err := os.RemoveAll(hooks); err != nil {
				t.Fatal(err)
			}
			writeFile(t, hooks, "not a folder", 0o644)
		}
		rep := install(t, Options{Repo: dir, Env: env})
		f := failedStep(rep)
		if f == nil || !strings.Contains(f.Detail, "cannot write the hook") || f.Fix == "" {
			t.Fatalf("got %+v", rep.Results)
		}
	})
	t.Run("hook is a symlink", func(t *testing.T) {
		env := hermeticEnv(t, glDir)
		dir := newRepo(t, env, "")
		target := filepath.Join(testenv.TempDir(t), "shared-pre-commit")
		writeFile(t, target, "#!/bin/sh\nexit 0\n", 0o755)
		link := filepath.Join(dir, ".git", "hooks", "pre-commit")
		if err := os.Symlink(target, link); err != nil {
			t.Fatal(err)
		}
		rep := install(t, Options{Repo: dir, Env: env})
		f := failedStep(rep)
		if f == nil || !strings.Contains(f.Detail, "symlink") {
			t.Fatalf("got %+v", rep.Results)
		}
		if got, _ := os.Readlink(link); got != target || string(readBytes(t, target)) != "#!/bin/sh\nexit 0\n" {
			t.Fatalf("the link or its target changed")
		}
	})
	t.Run("gitleaks missing", func(t *testing.T) {
		env := hermeticEnv(t, "")
		dir := newRepo(t, env, "")
		rep := install(t, Options{Repo: dir, Env: env, GOOS: "darwin"})
		f := failedStep(rep)
		if f == nil || !strings.Contains(f.Detail, "gitleaks is not installed") || !strings.Contains(f.Fix, "brew install gitleaks") {
			t.Fatalf("got %+v", rep.Results)
		}
		if _, err := os.Lstat(filepath.Join(dir, ".git", "hooks", "pre-commit")); err == nil {
			t.Fatalf("hook written although gitleaks is missing")
		}
	})
	t.Run("gitleaks too old", func(t *testing.T) {
		fake := testenv.TempDir(t)
		writeFile(t, filepath.Join(fake, "gitleaks"), "#!/bin/sh\necho v7.6.1\n", 0o755)
		env := hermeticEnv(t, fake)
		dir := newRepo(t, env, "")
		rep := install(t, Options{Repo: dir, Env: env})
		f := failedStep(rep)
		if f == nil || !strings.Contains(f.Detail, "too old") {
			t.Fatalf("got %+v", rep.Results)
		}
	})
	for _, m := range []struct{ name, file, fix string }{
		{"overcommit", ".overcommit.yml", "overcommit"},
		{"husky", ".husky/pre-commit", ".husky/pre-commit"},
		{"lefthook", "lefthook.yml", "lefthook install"},
	} {
		t.Run("manager "+m.name, func(t *testing.T) {
			env := hermeticEnv(t, glDir)
			dir := newRepo(t, env, "gitleaks.toml")
			writeFile(t, filepath.Join(dir, m.file), "# theirs\n", 0o644)
			rep := install(t, Options{Repo: dir, Env: env})
			f := failedStep(rep)
			if f == nil || !strings.Contains(f.Detail, "does not rewrite") || !strings.Contains(f.Fix, m.fix) || !strings.Contains(f.Fix, "--config gitleaks.toml") {
				t.Fatalf("got %+v", rep.Results)
			}
			if string(readBytes(t, filepath.Join(dir, m.file))) != "# theirs\n" {
				t.Fatalf("their config changed")
			}
			if _, err := os.Lstat(filepath.Join(dir, ".git", "hooks", "pre-commit")); err == nil {
				t.Fatalf("hook written")
			}
		})
	}
	t.Run("broken pre-commit config", func(t *testing.T) {
		env := hermeticEnv(t, glDir)
		dir := newRepo(t, env, "")
		bad := "repos: [\n  - oops\n"
		writeFile(t, filepath.Join(dir, PreCommitConfigName), bad, 0o644)
		rep := install(t, Options{Repo: dir, Env: env})
		if f := failedStep(rep); f == nil || !strings.Contains(f.Detail, "nothing was changed") {
			t.Fatalf("got %+v", rep.Results)
		}
		if string(readBytes(t, filepath.Join(dir, PreCommitConfigName))) != bad {
			t.Fatalf("config changed")
		}
	})
}

func TestSecretsFolderCheck(t *testing.T) {
	env := hermeticEnv(t, needGitleaks(t))
	dir := newRepo(t, env, "")
	ctx := context.Background()
	check := func(p string) SecretsFolder {
		t.Helper()
		s, err := CheckSecretsFolder(ctx, env, dir, p)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	if s := check(filepath.Join(testenv.TempDir(t), ".secrets", ".cdb")); s.Inside || s.AtRisk() {
		t.Errorf("outside folder: %+v", s)
	}
	in := filepath.Join(dir, ".secrets")
	s := check(in)
	if !s.AtRisk() || s.GitignoreLine != "/.secrets/" {
		t.Errorf("unignored inside folder: %+v", s)
	}
	rep := install(t, Options{Repo: dir, Env: env, SecretsPath: in})
	f := failedStep(rep)
	if f == nil || f.Step != "hook.secrets-ignored" || !strings.Contains(f.Fix, "/.secrets/") || !strings.Contains(f.Detail, "WARNING") {
		t.Fatalf("got %+v", rep.Results)
	}
	// The hook itself was still installed.
	assertHookBytes(t, filepath.Join(dir, ".git", "hooks", "pre-commit"))
	writeFile(t, filepath.Join(dir, ".gitignore"), "# secrets\n.secrets/\n", 0o644)
	if s := check(in); !s.Inside || !s.Ignored || s.AtRisk() {
		t.Errorf("ignored inside folder: %+v", s)
	}
}

func TestNotARepoErrorHasFix(t *testing.T) {
	env := hermeticEnv(t, "")
	_, err := Locate(context.Background(), env, testenv.TempDir(t), "hook install")
	if step.FixOf(err) == "" {
		t.Fatalf("no fix: %v", err)
	}
	var ee interface{ Fix() string }
	if !errors.As(err, &ee) {
		t.Fatal("no Fixer in chain")
	}
}

// TestFixNamesTheCommandThatRan: without git, `hook status` says to run
// `hook status` again, not a `hook install` that never ran (and each
// command names itself).
func TestFixNamesTheCommandThatRan(t *testing.T) {
	empty := testenv.TempDir(t)
	env := platform.MapEnvironment{"PATH": empty, "HOME": empty}
	_, err := Inspect(context.Background(), Options{Repo: empty, Env: env})
	fix := step.FixOf(err)
	if !strings.Contains(fix, "then run `cdb-setup hook status` again") || strings.Contains(fix, "hook install") {
		t.Errorf("hook status without git: %v; fix %q", err, fix)
	}
	for _, cmd := range []string{"hook install", "hook uninstall"} {
		_, err := Locate(context.Background(), env, empty, cmd)
		if fix := step.FixOf(err); !strings.Contains(fix, "`cdb-setup "+cmd+"` again") {
			t.Errorf("%s without git: fix %q", cmd, fix)
		}
	}
}

// Issue 13 item 6: core.hooksPath=.githooks, tracked: hook install refuses
// (nothing written, no copy), names both ways out; the local-only commands
// it prints run as printed and then install works, the team's hook first.
func TestTrackedHooksPathRefused(t *testing.T) {
	env := hermeticEnv(t, needGitleaks(t))
	dir := newRepo(t, env, "gitleaks.toml")
	team := "#!/bin/sh\necho team-hook-ran\n"
	writeFile(t, filepath.Join(dir, ".githooks", "pre-commit"), team, 0o755)
	gitRun(t, env, dir, "add", ".githooks")
	gitRun(t, env, dir, "commit", "-q", "--no-verify", "-m", "team hooks")
	gitRun(t, env, dir, "config", "core.hooksPath", ".githooks")

	rep := install(t, Options{Repo: dir, Env: env})
	f := failedStep(rep)
	if f == nil || f.Step != "hook.native" || !strings.Contains(f.Detail, "git tracks") ||
		!strings.Contains(f.Fix, PreCommitConfigName) || !strings.Contains(f.Fix, "git config --local core.hooksPath") {
		t.Fatalf("not refused: %+v", rep.Results)
	}
	if got := string(readBytes(t, filepath.Join(dir, ".githooks", "pre-commit"))); got != team {
		t.Fatal("the tracked hook was changed")
	}
	if _, err := os.Lstat(filepath.Join(dir, ".githooks", "pre-commit"+ChainedSuffix)); err == nil {
		t.Fatal("a chained copy was added to the tracked folder")
	}
	if st := gitRun(t, env, dir, "status", "--porcelain"); st != "" {
		t.Fatalf("the work tree changed:\n%s", st)
	}

	// The local-only way, exactly as printed.
	cmdText := f.Fix[strings.Index(f.Fix, "`mkdir")+1:]
	cmdText = cmdText[:strings.Index(cmdText, "`")]
	if out, code := runCmd(t, env, dir, "sh", "-c", cmdText); code != 0 {
		t.Fatalf("printed command failed (exit %d): %s\n%s", code, cmdText, out)
	}
	mustSucceed(t, install(t, Options{Repo: dir, Env: env}))
	if st := gitRun(t, env, dir, "status", "--porcelain"); st != "" {
		t.Fatalf("the local install changed the work tree:\n%s", st)
	}
	out, code := commit(t, env, dir, map[string]string{"ok.txt": "fine\n"})
	if code != 0 || !strings.Contains(out, "team-hook-ran") {
		t.Fatalf("commit after the local install: exit %d\n%s", code, out)
	}
}
