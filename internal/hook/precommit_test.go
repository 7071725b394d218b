package hook

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/claire-de-binare/cdb-setup/internal/testenv"
)

// fixturePreCommitConfig is modelled on CDB's: a header comment, a local
// hook, comments between items, and a trailing top-level key. Only local
// hooks, so pre-commit needs no network.
const fixturePreCommitConfig = `# =====
# Fixture pre-commit configuration
# =====

repos:
  # Checks of our own
  - repo: local
    hooks:
      - id: always-passes
        name: "An 'always passes' check"
        entry: sh -c 'exit 0' --
        language: system

  # Optional: more later

default_stages: [commit]
`

func TestPreCommitFrameworkBlocksLeak(t *testing.T) {
	testenv.NeedCommand(t, "pre-commit")
	env := hermeticEnv(t, needGitleaks(t))
	// The second hook runs `cdb-setup hook scan` from PATH.
	env["PATH"] = filepath.Dir(buildCdbSetup(t)) + string(os.PathListSeparator) + env["PATH"]
	dir := newRepo(t, env, "gitleaks.toml")
	cfgPath := filepath.Join(dir, PreCommitConfigName)
	writeFile(t, cfgPath, fixturePreCommitConfig, 0o644)
	gitRun(t, env, dir, "add", PreCommitConfigName)
	gitRun(t, env, dir, "commit", "-q", "--no-verify", "-m", "pre-commit config")
	hookPath := filepath.Join(dir, ".git", "hooks", "pre-commit")
	foreign := "#!/bin/sh\nexit ${FOREIGN_EXIT:-0}\n"
	writeFile(t, hookPath, foreign, 0o755)

	state := newState(t)
	opts := Options{Repo: dir, Env: env, State: state}
	mustSucceed(t, install(t, opts))
	edited := string(readBytes(t, cfgPath))
	if !strings.HasPrefix(edited, strings.SplitAfter(fixturePreCommitConfig, "language: system\n")[0]) || !strings.HasSuffix(edited, "  # Optional: more later\n\ndefault_stages: [commit]\n") {
		t.Fatalf("the user's text was not kept:\n%s", edited)
	}
	if !strings.Contains(edited, "entry: gitleaks git --pre-commit --staged --redact --config gitleaks.toml") {
		t.Fatalf("entry missing:\n%s", edited)
	}
	if !strings.Contains(string(readBytes(t, hookPath)), preCommitGenerated) {
		t.Fatalf("pre-commit install did not run")
	}
	gitRun(t, env, dir, "add", PreCommitConfigName)

	if out, code := commit(t, env, dir, map[string]string{"ok.txt": "fine\n"}); code != 0 {
		t.Fatalf("clean commit via pre-commit: exit %d: %s", code, out)
	}
	secret := fakeSecret(t, 40)
	out, code := commit(t, env, dir, map[string]string{"db.env": "POSTGRES_PASSWORD=" + secret + "\n"})
	if code != 1 {
		t.Fatalf("leak not blocked via pre-commit: exit %d", code)
	}
	assertRedacted(t, out, secret)
	if !strings.Contains(out, PreCommitHookID) && !strings.Contains(out, "gitleaks") {
		t.Errorf("pre-commit output does not name the gitleaks hook")
	}

	// Twice: nothing added again.
	mustSucceed(t, install(t, opts))
	if strings.Count(string(readBytes(t, cfgPath)), PreCommitHookID) != 1 {
		t.Fatalf("hook duplicated")
	}

	mustSucceed(t, uninstall(t, opts))
	if got := string(readBytes(t, cfgPath)); got != fixturePreCommitConfig {
		t.Fatalf("config not restored byte for byte:\n%s", got)
	}
	if got := string(readBytes(t, hookPath)); got != foreign {
		t.Fatalf("hook not restored")
	}
}

func TestAddPreCommitHook(t *testing.T) {
	cases := []struct {
		name, in string
		wantErr  bool
	}{
		{"empty", "", false},
		{"comments only", "# nothing yet\n", false},
		{"no repos key", "default_stages: [commit]\n", false},
		{"no final newline", "repos:\n- repo: local\n  hooks: []", false},
		{"crlf", "repos:\r\n  - repo: local\r\n    hooks: []\r\n", false},
		{"deep indent", "repos:\n    -   repo: local\n        hooks: []\nci:\n  skip: []\n", false},
		{"empty repos", "repos:\nfail_fast: true\n", false},
		{"flow repos", "repos: []\n", true},
		{"flow top", "{repos: []}\n", true},
		{"two documents", "repos: []\n---\nrepos: []\n", true},
		{"not a mapping", "- a\n- b\n", true},
		{"block scalar last", "repos:\n- repo: local\n  hooks:\n  - id: x\n    entry: |\n      echo hi\n      # not a comment\n", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, inserted, err := AddPreCommitHook([]byte(c.in), "gitleaks.toml")
			if c.wantErr {
				if err == nil || !errors.Is(err, ErrUnknownLayout) {
					t.Fatalf("want ErrUnknownLayout, got %v\n%s", err, out)
				}
				return
			}
			if err != nil {
				t.Fatalf("%v", err)
			}
			if strings.Contains(c.in, "\r\n") && bytes.Contains(bytes.ReplaceAll(out, []byte("\r\n"), nil), []byte("\n")) {
				t.Errorf("mixed line endings:\n%q", out)
			}
			info, err := InspectPreCommitConfig(out)
			if err != nil || !info.HasOurHook {
				t.Fatalf("hook not found after adding: %v\n%s", err, out)
			}
			back, err := RemovePreCommitHook(out, inserted)
			if err != nil || string(back) != c.in {
				t.Fatalf("remove did not restore: %v\n%q", err, back)
			}
		})
	}
}

func TestInspectFindsUnconfiguredGitleaks(t *testing.T) {
	in := "repos:\n- repo: https://github.com/gitleaks/gitleaks\n  rev: v8.18.1\n  hooks:\n  - id: gitleaks\n"
	info, err := InspectPreCommitConfig([]byte(in))
	if err != nil || len(info.UnconfiguredGitleaks) != 1 || info.HasOurHook {
		t.Fatalf("%+v %v", info, err)
	}
}

func FuzzAddPreCommitHook(f *testing.F) {
	for _, s := range []string{"", "repos:\n- repo: local\n  hooks: []\n", fixturePreCommitConfig, "repos:\r\n  - repo: x\r\n", "a: 1\nrepos:\n  - repo: y\n    rev: v1\n    hooks:\n      - id: z\n# end\n"} {
		f.Add([]byte(s), "gitleaks.toml")
	}
	if b, err := os.ReadFile(filepath.Join("testdata", "pre-commit-config.yaml")); err == nil {
		f.Add(b, ".gitleaks.toml")
	}
	f.Fuzz(func(t *testing.T, in []byte, cfg string) {
		if cfg != "" && cfg != "gitleaks.toml" && cfg != ".gitleaks.toml" {
			cfg = "gitleaks.toml"
		}
		out, inserted, err := AddPreCommitHook(in, cfg)
		if err != nil {
			return
		}
		// Accepted edits mean exactly "original + our hook" (checked inside),
		// keep every original byte, and undo exactly.
		if !bytes.Contains(out, []byte(inserted)) || len(out) != len(in)+len(inserted) {
			t.Fatalf("output is not the input plus the inserted text")
		}
		info, err := InspectPreCommitConfig(out)
		if err != nil || !info.HasOurHook {
			t.Fatalf("hook not readable after adding: %v", err)
		}
		back, err := RemovePreCommitHook(out, inserted)
		if err != nil || !bytes.Equal(back, in) {
			t.Fatalf("remove did not restore the input: %v", err)
		}
	})
}

// An install by an older cdb-setup (only the gitleaks hook) is told apart
// from a current one (both hooks), so status can say what is missing.
func TestInspectFindsScanHook(t *testing.T) {
	out, _, err := AddPreCommitHook([]byte(fixturePreCommitConfig), "gitleaks.toml")
	if err != nil {
		t.Fatal(err)
	}
	info, err := InspectPreCommitConfig(out)
	if err != nil || !info.HasOurHook || !info.HasScanHook {
		t.Fatalf("current block: %+v %v", info, err)
	}
	old := strings.Replace(string(out), "    - id: "+PreCommitScanID, "    - id: someone-elses", 1)
	if info, _ := InspectPreCommitConfig([]byte(old)); !info.HasOurHook || info.HasScanHook {
		t.Fatalf("old block: %+v", info)
	}
}
