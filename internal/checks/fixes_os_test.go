package checks

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"

	"github.com/claire-de-binare/cdb-setup/internal/hook"
	"github.com/claire-de-binare/cdb-setup/internal/manifest"
	"github.com/claire-de-binare/cdb-setup/internal/platform"
	"github.com/claire-de-binare/cdb-setup/internal/secrets"
	"github.com/claire-de-binare/cdb-setup/internal/stack"
)

// notHere lists, per OS, what a fix or hint must never say there: Unix
// commands on Windows, Linux-only commands and links on macOS, Windows
// commands on Linux. `$(…)` is nowhere: fish before 3.4 and cmd lack it, and
// every fix must run as printed.
var notHere = map[string][]*regexp.Regexp{
	"windows": res(`\bchmod\b`, `\bchown\b`, `\bsudo\b`, `\$\(`, `/install/linux`, `docker-compose-plugin`, `\bapt(-get)?\b`,
		`\bsystemctl\b`, `\busermod\b`, `\blsof\b`, `\bkill\b`, `&&`, `\bmv\b`, `mac-install`, `\$USER\b`, `~/`),
	"darwin": res(`\$\(`, `/install/linux`, `docker-compose-plugin`, `\bapt(-get)?\b`, `\bsystemctl\b`, `\busermod\b`,
		`\bss -ltnp\b`, `windows-install`, `\bicacls\b`, `\btakeown\b`, `\btaskkill\b`, `\bfindstr\b`),
	"linux": res(`\$\(`, `windows-install`, `mac-install`, `\bicacls\b`, `\btakeown\b`, `\btaskkill\b`, `\bfindstr\b`),
}

func res(pats ...string) []*regexp.Regexp {
	out := make([]*regexp.Regexp, len(pats))
	for i, p := range pats {
		out[i] = regexp.MustCompile(p)
	}
	return out
}

// rendered is one piece of advice and where it came from.
type rendered struct{ from, text string }

func rejectTokens(t *testing.T, goos string, all []rendered) {
	t.Helper()
	for _, r := range all {
		for _, re := range notHere[goos] {
			if re.MatchString(r.text) {
				t.Errorf("%s on %s says %q, which does not belong there:\n  %s", r.from, goos, re.FindString(r.text), r.text)
			}
		}
	}
}

// TestFixesAreRenderedForTheirOS renders every check's fix, doctor's and
// up's preflight checks, with Windows, macOS and Linux facts, after breaking
// for real what each check looks at, and rejects the commands and links that
// do not belong on that OS. Each broken thing must really produce its
// failure, so a scenario that stops triggering fails here instead of
// silently passing.
func TestFixesAreRenderedForTheirOS(t *testing.T) {
	for _, goos := range []string{"windows", "darwin", "linux"} {
		t.Run(goos, func(t *testing.T) {
			var all []rendered
			add := func(from string, st any, detail, fix string) {
				all = append(all, rendered{from + " detail", detail}, rendered{from + " fix", fix})
			}
			must := func(from string, got, want any, detail, fix string) {
				t.Helper()
				if got != want {
					t.Errorf("%s: status %v, want %v (%s; fix: %s): the scenario no longer triggers", from, got, want, detail, fix)
				}
				add(from, got, detail, fix)
			}

			// doctor
			f := newFixture(t)
			f.e.Facts.OS = goos
			f.e.Facts.Documents = filepath.Join(f.e.Facts.Home, "Documents missing")
			f.e.SecretsDir = f.secrets
			e2 := f.e
			wsCopy := *f.e.Workspace // e2 gets its own folder, f.e keeps f.secrets
			e2.Workspace = &wsCopy
			e2.SecretsDir = "" // Documents is needed: the default folder is in it
			r := run1(t, documentsCheck(e2))
			must("doctor documents", r.Status, Warn, r.Detail, r.Fix)

			open := filepath.Join(f.e.Facts.Home, "open folder")
			if err := os.Mkdir(open, 0o755); err != nil {
				t.Fatal(err)
			}
			os.Chmod(open, 0o755) // whatever the umask: readable by others
			e2.SecretsDir = open
			r = run1(t, secretsFolderCheck(e2))
			if enforced, _ := platform.PermissionsEnforced(open); enforced {
				must("doctor secrets-folder (readable by others)", r.Status, Fail, r.Detail, r.Fix)
			} else { // Wine: no fix can make it private, so a warning
				must("doctor secrets-folder (permissions not kept here)", r.Status, Warn, r.Detail, r.Fix)
			}
			if runtime.GOOS != "windows" && os.Geteuid() == 0 {
				foreign := filepath.Join(f.e.Facts.Home, "foreign")
				os.Mkdir(foreign, 0o700)
				if err := os.Chown(foreign, 65534, 65534); err != nil {
					t.Fatal(err)
				}
				e2.SecretsDir = foreign
				r = run1(t, secretsFolderCheck(e2))
				must("doctor secrets-folder (someone else's)", r.Status, Fail, r.Detail, r.Fix)
			}
			add("platform.ForeignOwnerFix", nil, "", platform.ForeignOwnerFix(goos, open, "alice"))
			add("platform.ForeignOwnerFix (no user)", nil, "", platform.ForeignOwnerFix(goos, open, ""))

			asDir := filepath.Join(f.secrets, "REDIS_PASSWORD")
			os.Remove(asDir)
			if err := os.Mkdir(asDir, 0o700); err != nil {
				t.Fatal(err)
			}
			r = secretFile(secrets.Secret{Name: "REDIS_PASSWORD", Path: asDir, Policy: manifest.Secret{Kind: manifest.KindGenerated}}, f.e)
			must("doctor secret-file (a folder)", r.Status, Fail, r.Detail, r.Fix)
			for _, c := range secretFileChecks(context.Background(), f.e) {
				r := run1(t, c)
				add("doctor "+c.ID, r.Status, r.Detail, r.Fix)
			}

			os.MkdirAll(f.e.StateDir, 0o700)
			os.WriteFile(filepath.Join(f.e.StateDir, platform.StateFileName), []byte("{not json"), 0o600)
			r = run1(t, stateCheck(f.e))
			must("doctor state", r.Status, Fail, r.Detail, r.Fix)

			for _, c := range []Check{cloudSyncCheck(f.e), secretsPathEnvCheck(f.e), repoCheck(f.e), systemCheck(f.e), macOSFilesAndFoldersCheck(f.e)} {
				r := run1(t, c)
				add("doctor "+c.ID, r.Status, r.Detail, r.Fix)
			}
			for _, c := range hook.InstallCommands(goos, f.e.Env) {
				add("doctor gitleaks install", nil, "", c)
			}

			// up's preflight checks (doctor lists them too)
			empty := filepath.Join(f.e.Facts.Home, "empty-path")
			os.Mkdir(empty, 0o700)
			host := "unix://" + filepath.Join(f.e.Facts.Home, "no-docker.sock")
			if runtime.GOOS == "windows" {
				host = "npipe:////./pipe/cdb-setup-no-docker-here"
			}
			pf := &Preflight{
				Env:  platform.MapEnvironment{"PATH": empty, "HOME": f.e.Facts.Home, "USERPROFILE": f.e.Facts.Home, "DOCKER_HOST": host},
				Home: f.e.Facts.Home, GOOS: goos, Project: "cdbfixes", Rerun: "cdb-setup up",
				Secrets: []SecretFile{{Name: "REDIS_PASSWORD", Path: asDir, Services: []string{"redis"}}},
			}
			// Compose is looked up on the process's PATH.
			t.Setenv("PATH", empty)
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			port := ln.Addr().(*net.TCPAddr).Port
			pf.Ports = []stack.Port{{Service: "redis", HostIP: "127.0.0.1", Port: port, Proto: "tcp"}}
			wantStatus := map[string]Status{"docker.engine": Fail, "docker.compose": Fail, "secrets.files": Fail, "ports.free": Fail}
			for _, c := range pf.Checks() {
				r := c.Run(context.Background())
				if w, ok := wantStatus[c.ID]; ok {
					must("preflight "+c.ID, r.Status, w, r.Detail, r.Fix)
				} else {
					add("preflight "+c.ID, r.Status, r.Detail, r.Fix)
				}
			}
			add("platform.DockerUpdateFix", nil, "", platform.DockerUpdateFix(goos))
			add("platform.MakeWritableCommand", nil, "", platform.MakeWritableCommand(goos, open))
			add("platform.StopPortHolderHint (no pid)", nil, "", platform.StopPortHolderHint(goos, 6379, "another process", ""))
			for _, ep := range []stack.Endpoint{{Host: "unix:///var/run/docker.sock", Context: "default"}, {Host: "tcp://10.0.0.1:2375", Source: "DOCKER_HOST"}} {
				add("stack.StartHint", nil, "", stack.StartHint(ep, goos, errors.New("permission denied")))
				add("stack.StartHint", nil, "", stack.StartHint(ep, goos, errors.New("connection refused")))
			}
			add("stack.ComposeNotFoundError", nil, (&stack.ComposeNotFoundError{Tried: []string{"docker"}, GOOS: goos}).Error(), "")

			rejectTokens(t, goos, all)
		})
	}
}

// TestSecretsMessagesAreRenderedForThisOS: the secrets lint and fix
// messages are built for the OS cdb-setup runs on (file modes on Unix, the
// DACL on Windows), so they are checked on each OS the tests run on (Linux,
// Windows under Wine, and macOS/Windows in CI).
func TestSecretsMessagesAreRenderedForThisOS(t *testing.T) {
	f := newFixture(t)
	os.Chmod(f.secrets, 0o755)
	os.WriteFile(filepath.Join(f.secrets, "REDIS_PASSWORD"), []byte("abc\r\n"), 0o666)
	os.WriteFile(filepath.Join(f.secrets, "GRAFANA_PASSWORD"), []byte("\xef\xbb\xbfabc "), 0o666)
	os.Remove(filepath.Join(f.secrets, "SMTP_USER"))
	os.Mkdir(filepath.Join(f.secrets, "SMTP_USER"), 0o700)
	os.Remove(filepath.Join(f.secrets, "POSTGRES_PASSWORD"))
	cat, err := secrets.Discover(context.Background(), secrets.DiscoverOptions{Repo: f.e.Repo, Manifest: f.e.Manifest, Dir: f.secrets, Env: f.e.Env})
	if err != nil {
		t.Fatal(err)
	}
	mode, why := secrets.DefaultFileMode(platform.Facts{OS: runtime.GOOS})
	rep := secrets.CheckAll(context.Background(), secrets.CheckOptions{Options: secrets.Options{Catalogue: cat, Mode: mode, Repo: f.e.Repo}})
	all := []rendered{{"secrets.DefaultFileMode", why}}
	for _, p := range rep.Folder {
		all = append(all, rendered{"secrets check (folder) " + p.Code, p.Message})
	}
	codes := map[string]bool{}
	for _, s := range rep.Secrets {
		for _, p := range s.Problems {
			codes[p.Code] = true
			all = append(all, rendered{"secrets check " + p.Code, p.Message})
		}
	}
	for _, c := range []string{secrets.CodeCRLF, secrets.CodeBOM, secrets.CodeDirectory, secrets.CodeMissing} {
		if !codes[c] {
			t.Errorf("the broken folder did not produce %s: the test no longer covers it (%v)", c, codes)
		}
	}
	if runtime.GOOS != "windows" && len(rep.Folder) == 0 {
		t.Error("a folder readable by others (0755) gave no folder problem")
	}
	for _, c := range secretFileChecks(context.Background(), f.e) {
		r := run1(t, c)
		all = append(all, rendered{"doctor " + c.ID + " detail", r.Detail}, rendered{"doctor " + c.ID + " fix", r.Fix})
	}
	if !strings.Contains(rep.Dir, f.secrets) {
		t.Fatalf("checked %s, want %s", rep.Dir, f.secrets)
	}
	rejectTokens(t, runtime.GOOS, all)
}
