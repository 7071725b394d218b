package checks

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/claire-de-binare/cdb-setup/internal/platform"
	"github.com/claire-de-binare/cdb-setup/internal/testenv"
	"github.com/claire-de-binare/cdb-setup/internal/workspace"
)

// fixture is a CDB-like clone and a home with a complete, private secrets
// folder; each test then breaks one thing for real.
type fixture struct {
	e       Env
	secrets string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	home := testenv.TempDir(t)
	repo := filepath.Join(testenv.TempDir(t), "repo")
	copyTree(t, "../cli/testdata/cdbrepo", repo)
	docs := filepath.Join(home, "Documents")
	secrets := filepath.Join(docs, ".secrets", ".cdb")
	if err := os.MkdirAll(secrets, 0o700); err != nil {
		t.Fatal(err)
	}
	os.Chmod(secrets, 0o700)
	for name, content := range map[string]string{
		"REDIS_PASSWORD": strings.Repeat("a", 32), "POSTGRES_PASSWORD": strings.Repeat("b", 32), "GRAFANA_PASSWORD": strings.Repeat("c", 32),
		"POSTGRES_PASSWORD_DSN": "postgresql://claire_user:" + strings.Repeat("b", 32) + "@cdb_postgres:5432/claire_de_binare?sslmode=disable",
		"SMTP_USER":             "", "SMTP_PASSWORD": "", "SMTP_FROM": "", "ALERT_EMAIL_TO": "", "MEXC_API_KEY.txt": "", "MEXC_API_SECRET.txt": "",
	} {
		if err := os.WriteFile(filepath.Join(secrets, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if runtime.GOOS == "windows" {
		// What `secrets init` does on Windows: protected DACLs (Wine
		// accepts them and keeps nothing: ErrNotEnforced).
		if _, err := platform.EnsurePrivateDir(secrets, false); err != nil {
			t.Fatal(err)
		}
		ents, _ := os.ReadDir(secrets)
		for _, e := range ents {
			if err := platform.RestrictFile(filepath.Join(secrets, e.Name()), 0o600, false); err != nil && !errors.Is(err, platform.ErrNotEnforced) {
				t.Fatal(err)
			}
		}
	}
	env := platform.MapEnvironment{"HOME": home, "PATH": "", "SECRETS_PATH": secrets, "CDB_SETUP_STATE_DIR": filepath.Join(home, "state")}
	facts := platform.Facts{OS: runtime.GOOS, Arch: runtime.GOARCH, Home: home, Documents: docs, DocumentsSource: "default"}
	ws, err := workspace.Resolve(context.Background(), workspace.Options{Flags: workspace.Flags{Repo: repo}, Env: env, Facts: &facts})
	if err != nil || ws.NeedRepo() != nil {
		t.Fatalf("workspace: %v, %v", err, ws.NeedRepo())
	}
	return &fixture{secrets: secrets, e: Env{Workspace: ws, Env: env}}
}

func copyTree(t *testing.T, from, to string) {
	t.Helper()
	err := filepath.WalkDir(from, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(to, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(to, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func run1(t *testing.T, c Check) Result {
	t.Helper()
	return RunAll(context.Background(), []Check{c}, nil)[0].Result
}

func want(t *testing.T, r Result, status Status, detail, fix string) {
	t.Helper()
	if r.Status != status || !strings.Contains(r.Detail, detail) || !strings.Contains(r.Fix, fix) {
		t.Errorf("got %s %q fix %q\nwant %s %q fix %q", r.Status, r.Detail, r.Fix, status, detail, fix)
	}
}

func TestAllFineOnAFreshSetup(t *testing.T) {
	f := newFixture(t)
	enforced, _ := platform.PermissionsEnforced(f.secrets)
	for _, c := range []Check{systemCheck(f.e), documentsCheck(f.e), cloudSyncCheck(f.e), repoCheck(f.e), secretsFolderCheck(f.e), secretsPathEnvCheck(f.e), stateCheck(f.e)} {
		r := run1(t, c)
		if !enforced && c.ID == "secrets-folder" {
			// Wine keeps no ACLs: a warning that says so, never ✓.
			if r.Status != Warn || !strings.Contains(r.Detail, "not enforced here") {
				t.Errorf("%s where permissions are not kept: %s %s", c.ID, r.Status, r.Detail)
			}
			continue
		}
		if r.Status != OK {
			t.Errorf("%s: %s %s", c.ID, r.Status, r.Detail)
		}
	}
	for _, c := range secretFileChecks(context.Background(), f.e) {
		if r := run1(t, c); r.Status != OK {
			t.Errorf("%s: %s %s", c.ID, r.Status, r.Detail)
		}
	}
}

func TestSecretsFolderCheckFailsForReal(t *testing.T) {
	t.Run("missing", func(t *testing.T) {
		f := newFixture(t)
		removeFolder(t, f.secrets)
		want(t, run1(t, secretsFolderCheck(f.e)), Fail, "does not exist", "cdb-setup secrets init --secrets-path "+f.secrets)
		cs := secretFileChecks(context.Background(), f.e)
		if len(cs) != 1 {
			t.Fatalf("want one line for all files when the folder is missing, got %d", len(cs))
		}
		want(t, run1(t, cs[0]), Fail, "all 10 are missing", "cdb-setup secrets init")
	})
	t.Run("readable by others", func(t *testing.T) {
		if runtime.GOOS == "windows" {
			t.Skip("Unix modes; a Windows folder open to others is TestFixesAreRenderedForTheirOS's (fail on Windows, warn where ACLs are not kept)")
		}
		f := newFixture(t)
		os.Chmod(f.secrets, 0o755)
		want(t, run1(t, secretsFolderCheck(f.e)), Fail, "mode 0755", "cdb-setup secrets fix (or: chmod 700 "+f.secrets+")")
	})
	t.Run("symlink", func(t *testing.T) {
		f := newFixture(t)
		link := filepath.Join(f.e.Facts.Home, "link")
		if err := os.Symlink(f.secrets, link); err != nil || !isLink(link) {
			t.Skipf("no symbolic link here (Windows needs Developer Mode; Wine fakes them): %v", err)
		}
		f.e.SecretsDir = link
		want(t, run1(t, secretsFolderCheck(f.e)), Fail, "symbolic link to "+f.secrets, "cdb-setup env set --secrets-path "+f.secrets)
	})
	t.Run("a file", func(t *testing.T) {
		f := newFixture(t)
		p := filepath.Join(f.e.Facts.Home, "afile")
		os.WriteFile(p, nil, 0o600)
		f.e.SecretsDir = p
		want(t, run1(t, secretsFolderCheck(f.e)), Fail, "is a file", "move "+p+" away")
	})
	t.Run("someone else's", func(t *testing.T) {
		if runtime.GOOS == "windows" {
			t.Skip("ownership on Windows is a SID; a folder of another account needs a second real account")
		}
		if os.Geteuid() != 0 {
			testenv.Need(t, false, "root, to hand a folder to another user")
		}
		f := newFixture(t)
		if err := os.Chown(f.secrets, 65534, 65534); err != nil {
			t.Fatal(err)
		}
		want(t, run1(t, secretsFolderCheck(f.e)), Fail, "owned by another user", "sudo chown -R")
	})
}

func fileCheck(t *testing.T, e Env, name string) Result {
	t.Helper()
	for _, c := range secretFileChecks(context.Background(), e) {
		if c.ID == "secret-file:"+name {
			return run1(t, c)
		}
	}
	t.Fatalf("no check for %s", name)
	return Result{}
}

func TestSecretFileChecksFailForReal(t *testing.T) {
	f := newFixture(t)
	os.Remove(filepath.Join(f.secrets, "REDIS_PASSWORD"))
	want(t, fileCheck(t, f.e, "REDIS_PASSWORD"), Fail, "missing: containers that mount it cannot be created", "cdb-setup secrets init")

	g := filepath.Join(f.secrets, "GRAFANA_PASSWORD")
	os.Remove(g)
	os.Mkdir(g, 0o755) // what older Docker Desktop made of a missing file
	want(t, fileCheck(t, f.e, "GRAFANA_PASSWORD"), Fail, "is a folder", platform.RemoveEmptyDirCommand(runtime.GOOS, g))

	os.WriteFile(filepath.Join(f.secrets, "POSTGRES_PASSWORD"), nil, 0o644)
	want(t, fileCheck(t, f.e, "POSTGRES_PASSWORD"), Fail, "empty: the service would start with an empty password", "cdb-setup secrets fix")

	d := filepath.Join(f.secrets, "POSTGRES_PASSWORD_DSN")
	os.Remove(d)
	// Windows needs Developer Mode for symlinks; Wine's "succeed" without
	// leaving a link: only a real link is checked.
	if err := os.Symlink(filepath.Join(f.e.Facts.Home, "elsewhere"), d); err == nil && isLink(d) {
		want(t, fileCheck(t, f.e, "POSTGRES_PASSWORD_DSN"), Fail, "symbolic link", "cdb-setup secrets fix")
	}
	want(t, fileCheck(t, f.e, "SMTP_USER"), OK, "empty (optional", "")

	// Content lint, from the secrets package: a CRLF written by a Windows tool.
	os.WriteFile(filepath.Join(f.secrets, "MEXC_API_KEY.txt"), []byte("key\r\n"), 0o644)
	want(t, fileCheck(t, f.e, "MEXC_API_KEY.txt"), Fail, "", "cdb-setup secrets fix")
}

func TestDSNConsistency(t *testing.T) {
	f := newFixture(t)
	os.WriteFile(filepath.Join(f.secrets, "POSTGRES_PASSWORD"), []byte("Abc123Abc123Abc123Abc123Abc123Ab"), 0o644)
	os.WriteFile(filepath.Join(f.secrets, "POSTGRES_PASSWORD_DSN"), []byte("postgresql://claire_user:other@cdb_postgres:5432/claire_de_binare?sslmode=disable"), 0o644)
	want(t, fileCheck(t, f.e, "POSTGRES_PASSWORD_DSN"), Fail, "does not match", "cdb-setup secrets fix")
}

func TestSecretFilesBrokenCompose(t *testing.T) {
	f := newFixture(t)
	p := filepath.Join(f.e.Repo, "infrastructure/compose/base.yml")
	os.WriteFile(p, []byte("secrets:\n  x:\n    file: /etc/passwd\n"), 0o644)
	cs := secretFileChecks(context.Background(), f.e)
	want(t, run1(t, cs[0]), Fail, "cannot list the secrets", "fix the compose files")
}

func TestCloudSyncCheck(t *testing.T) {
	f := newFixture(t)
	f.e.Facts.CloudSync = "OneDrive"
	alt := filepath.Join(f.e.Facts.Home, ".secrets", ".cdb")
	want(t, run1(t, cloudSyncCheck(f.e)), Warn, "which OneDrive syncs", "cdb-setup secrets init --secrets-path "+alt)
	f.e.SecretsDir = alt
	want(t, run1(t, cloudSyncCheck(f.e)), OK, "outside it", "")
}

func TestMacOSFilesAndFoldersCheck(t *testing.T) {
	f := newFixture(t)
	f.e.Facts.OS = "darwin"
	want(t, run1(t, macOSFilesAndFoldersCheck(f.e)), Warn, "under ~/Documents", "Privacy & Security → Files and Folders → Docker")
	f.e.SecretsDir = filepath.Join(f.e.Facts.Home, ".secrets", ".cdb")
	want(t, run1(t, macOSFilesAndFoldersCheck(f.e)), OK, "not under ~/Documents", "")
	f.e.Facts.OS = "linux"
	if r := run1(t, macOSFilesAndFoldersCheck(f.e)); r.Status != Skip {
		t.Errorf("%+v", r)
	}
}

func TestDocumentsCheck(t *testing.T) {
	f := newFixture(t)
	// A Documents folder that is not there (redirected, or never made),
	// with the secrets folder inside it.
	f.e.Facts.Documents = filepath.Join(f.e.Facts.Home, "Docs")
	f.e.SecretsDir = filepath.Join(f.e.Facts.Documents, ".secrets", ".cdb")
	want(t, run1(t, documentsCheck(f.e)), Warn, "does not exist", "mkdir "+f.e.Facts.Documents)
	os.WriteFile(f.e.Facts.Documents, nil, 0o644)
	want(t, run1(t, documentsCheck(f.e)), Fail, "is not a folder", "move the file")
}

func TestSecretsPathEnvCheck(t *testing.T) {
	f := newFixture(t)
	env := f.e.Env.(platform.MapEnvironment)
	delete(env, "SECRETS_PATH")
	want(t, run1(t, secretsPathEnvCheck(f.e)), Warn, "not set", "cdb-setup env set --secrets-path "+f.secrets)
	env["SECRETS_PATH"] = "/somewhere/else"
	want(t, run1(t, secretsPathEnvCheck(f.e)), Fail, "is /somewhere/else, but the secrets are in "+f.secrets, "--force")
}

func TestNewShellsCheck(t *testing.T) {
	if runtime.GOOS == "windows" {
		// New Windows programs read HKCU\Environment, not a shell's rc
		// files: the line reports that value (read here for real).
		f := newFixture(t)
		r := run1(t, newShellsCheck(f.e))
		v, _, set, err := platform.DefaultUserEnv().Get(platform.EnvVar)
		switch {
		case err != nil:
			t.Fatal(err)
		case !set:
			want(t, r, Warn, "not set in "+platform.UserEnvKey, "cdb-setup env set --secrets-path")
		case v == f.secrets:
			want(t, r, OK, v, "")
		default:
			want(t, r, Fail, "but the secrets are in", "--force")
		}
		return
	}
	sh := testenv.NeedCommand(t, "sh")
	f := newFixture(t)
	f.e.Env.(platform.MapEnvironment)["PATH"] = filepath.Dir(sh)
	// A fresh HOME: no shell sets it.
	want(t, run1(t, newShellsCheck(f.e)), Warn, "not set in any new shell", "cdb-setup env set --secrets-path "+f.secrets)
	// ~/.profile sets another folder: login shells see the wrong one.
	os.WriteFile(filepath.Join(f.e.Facts.Home, ".profile"), []byte("export SECRETS_PATH=/wrong/place\n"), 0o644)
	want(t, run1(t, newShellsCheck(f.e)), Fail, "= /wrong/place", "--force")
}

func TestRepoCheck(t *testing.T) {
	f := newFixture(t)
	os.Remove(filepath.Join(f.e.Repo, "infrastructure/compose/dev.yml"))
	want(t, run1(t, repoCheck(f.e)), Fail, "compose files missing: infrastructure/compose/dev.yml", "git checkout -- infrastructure/compose/dev.yml")
	f.e.RepoErr = os.ErrNotExist
	want(t, run1(t, repoCheck(f.e)), Fail, "not exist", "pass --repo DIR")
}

func TestStateCheck(t *testing.T) {
	f := newFixture(t)
	os.MkdirAll(f.e.StateDir, 0o700)
	p := filepath.Join(f.e.StateDir, platform.StateFileName)
	os.WriteFile(p, []byte("{not json"), 0o600)
	want(t, run1(t, stateCheck(f.e)), Fail, "is damaged", platform.MoveCommand(runtime.GOOS, p, p+".bad"))
}

func TestHookChecks(t *testing.T) {
	git := testenv.NeedCommand(t, "git")
	f := newFixture(t)
	if out, err := exec.Command(git, "-C", f.e.Repo, "init", "-q").CombinedOutput(); err != nil {
		t.Fatalf("%v %s", err, out)
	}
	f.e.Env.(platform.MapEnvironment)["PATH"] = filepath.Dir(git) // no gitleaks here
	cs := hookChecks(f.e)
	want(t, run1(t, cs[0]), Warn, "not scanned for secrets", "cdb-setup hook install")
	want(t, run1(t, cs[1]), Warn, "not installed", "cdb-setup hook install --install-gitleaks")
}

func TestChecksNeverPrintSecretValues(t *testing.T) {
	f := newFixture(t)
	os.WriteFile(filepath.Join(f.secrets, "REDIS_PASSWORD"), []byte("Sup3rS3cretRedisValue"), 0o644)
	for _, r := range RunAll(context.Background(), Doctor(context.Background(), f.e), nil) {
		if strings.Contains(r.Detail+r.Fix, "Sup3rS3cretRedisValue") {
			t.Errorf("%s prints the secret", r.ID)
		}
	}
}

func isLink(p string) bool {
	fi, err := os.Lstat(p)
	return err == nil && fi.Mode()&fs.ModeSymlink != 0
}

// removeFolder empties and removes a flat folder entry by entry (Wine 8's
// os.RemoveAll fails on a non-empty folder).
func removeFolder(t *testing.T, dir string) {
	t.Helper()
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		os.Remove(filepath.Join(dir, e.Name()))
	}
	if err := os.Remove(dir); err != nil {
		t.Fatal(err)
	}
}
