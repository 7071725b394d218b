package secrets

import (
	"bytes"
	"context"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"

	"github.com/claire-de-binare/cdb-setup/internal/manifest"
	"github.com/claire-de-binare/cdb-setup/internal/platform"
	"github.com/claire-de-binare/cdb-setup/internal/step"
	"github.com/claire-de-binare/cdb-setup/internal/testenv"
)

// catalogue discovers the fixture repo's secrets for a fresh secrets folder.
func catalogue(t *testing.T) (*Catalogue, Options) {
	t.Helper()
	repo, err := filepath.Abs("testdata/cdbrepo")
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(testenv.TempDir(t), "Documents", ".secrets", ".cdb")
	c, err := Discover(context.Background(), DiscoverOptions{Repo: repo, Manifest: manifest.Default(), Dir: dir, Env: platform.MapEnvironment{}})
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Secrets) != 10 {
		t.Fatalf("catalogue has %d secrets, want 10: %v", len(c.Secrets), c.Names())
	}
	return c, Options{Catalogue: c, Mode: 0o644, Env: map[string]string{}, Project: "cdb", StateDir: filepath.Join(testenv.TempDir(t), "state")}
}

// run(t)(InitSteps(...)) runs the steps with KeepGoing.
func run(t *testing.T) func([]step.Step, error) step.Report {
	return func(steps []step.Step, err error) step.Report { t.Helper(); return runSteps(t, steps, err) }
}

func runSteps(t *testing.T, steps []step.Step, err error) step.Report {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	rep, err := step.Run(context.Background(), steps, step.Options{KeepGoing: true})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func statuses(rep step.Report) map[string]step.Status {
	m := map[string]step.Status{}
	for _, r := range rep.Results {
		m[r.Step] = r.Status
	}
	return m
}

func readAll(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if e.Type().IsRegular() {
			out[e.Name()] = mustRead(t, filepath.Join(dir, e.Name()))
		}
	}
	return out
}

func TestInitCreatesEverySecretThenIsIdempotent(t *testing.T) {
	c, o := catalogue(t)
	rep := run(t)(InitSteps(InitOptions{Options: o}))
	if rep.Failed() {
		t.Fatalf("init failed: %+v", rep.Results)
	}
	files := readAll(t, c.Dir)
	if len(files) != 10 {
		t.Fatalf("%d files, want 10", len(files))
	}
	for _, s := range c.Secrets {
		v := files[s.Name]
		switch s.Policy.Kind {
		case manifest.KindGenerated:
			if len(v) != 32 || Lint(s.Name, v, s.Policy) != nil {
				t.Errorf("%s: %d bytes or lint problems", s.Name, len(v))
			}
		case manifest.KindExternal:
			if len(v) != 0 {
				t.Errorf("%s: optional external should be an empty placeholder, has %d bytes", s.Name, len(v))
			}
		}
		wantMode(t, s.Path, 0o644)
	}
	u, err := url.Parse(string(files["POSTGRES_PASSWORD_DSN"]))
	if err != nil {
		t.Fatal("DSN does not parse")
	}
	if p, _ := u.User.Password(); p != string(files["POSTGRES_PASSWORD"]) || u.Query().Get("sslmode") != "disable" {
		t.Error("DSN does not carry POSTGRES_PASSWORD / sslmode=disable")
	}
	wantMode(t, c.Dir, 0o700)
	if st, _ := platform.LoadState(o.StateDir); st == nil || len(st.Find(StateKindFolder)) != 1 || st.Find(StateKindFolder)[0].Target != c.Dir {
		t.Errorf("state records %+v", st)
	}

	// Second run: nothing changes, every step says done.
	rep = run(t)(InitSteps(InitOptions{Options: o}))
	enforced, _ := platform.PermissionsEnforced(c.Dir)
	for _, r := range rep.Results {
		// Where the ACL is not kept (Wine), the folder step says so ("-").
		if r.Status != step.StatusDone && !(!enforced && r.Step == "secrets.folder" && r.Status == step.StatusSkipped) {
			t.Errorf("second run: %s is %s (%s)", r.Step, r.Status, r.Detail)
		}
	}
	if again := readAll(t, c.Dir); !sameFiles(files, again) {
		t.Error("second run changed bytes")
	}
	// Dry run plans "already done" for everything.
	steps, _ := InitSteps(InitOptions{Options: o})
	plan, _ := step.Run(context.Background(), steps, step.Options{DryRun: true})
	for _, p := range plan.Plans {
		if !p.None && runtime.GOOS != "windows" {
			t.Errorf("dry run of a done init plans %q", p.Summary)
		}
	}
}

func sameFiles(a, b map[string][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if !bytes.Equal(v, b[k]) {
			return false
		}
	}
	return true
}

func TestInitForceBacksUpAndRederives(t *testing.T) {
	c, o := catalogue(t)
	run(t)(InitSteps(InitOptions{Options: o}))
	before := readAll(t, c.Dir)
	rep := run(t)(InitSteps(InitOptions{Options: o, Force: true}))
	if rep.Failed() {
		t.Fatalf("%+v", rep.Results)
	}
	after := readAll(t, c.Dir)
	for _, n := range []string{"REDIS_PASSWORD", "POSTGRES_PASSWORD", "GRAFANA_PASSWORD", "POSTGRES_PASSWORD_DSN"} {
		if bytes.Equal(before[n], after[n]) {
			t.Errorf("%s unchanged by --force", n)
		}
		bs, _ := Backups(c.Dir, n)
		if len(bs) != 1 || !bytes.Equal(mustRead(t, bs[0]), before[n]) {
			t.Errorf("%s: %d backups or wrong backup bytes", n, len(bs))
		}
	}
	var warned bool
	for _, r := range rep.Results {
		if strings.Contains(r.Detail, "cdb_postgres_data") {
			warned = true
		}
	}
	if !warned {
		t.Error("no volume warning for POSTGRES_PASSWORD")
	}
}

func TestInitExternalValuesAndRefusals(t *testing.T) {
	c, o := catalogue(t)
	v := []byte("me@example.org")
	rep := run(t)(InitSteps(InitOptions{Options: o, External: map[string][]byte{"SMTP_USER": v}}))
	if rep.Failed() || !bytes.Equal(mustRead(t, filepath.Join(c.Dir, "SMTP_USER")), v) {
		t.Fatal("external value not written")
	}
	// A different value without --force is refused, and the file kept.
	rep = run(t)(InitSteps(InitOptions{Options: o, External: map[string][]byte{"SMTP_USER": []byte("other@example.org")}}))
	if statuses(rep)["secrets.write.SMTP_USER"] != step.StatusFailed || !bytes.Equal(mustRead(t, filepath.Join(c.Dir, "SMTP_USER")), v) {
		t.Fatal("different external value replaced without --force")
	}
	// --force with a new value replaces even a broken one (after a backup).
	os.WriteFile(filepath.Join(c.Dir, "SMTP_USER"), []byte("old@example.org\r\n"), 0o644)
	rep = run(t)(InitSteps(InitOptions{Options: o, Force: true, External: map[string][]byte{"SMTP_USER": v}}))
	if statuses(rep)["secrets.write.SMTP_USER"] != step.StatusChanged || !bytes.Equal(mustRead(t, filepath.Join(c.Dir, "SMTP_USER")), v) {
		t.Fatalf("--force --set over a broken value: %+v", rep.Results)
	}
	if _, err := InitSteps(InitOptions{Options: o, External: map[string][]byte{"REDIS_PASSWORD": v}}); err == nil {
		t.Error("a value for a generated secret was accepted")
	}
	if _, err := InitSteps(InitOptions{Options: o, External: map[string][]byte{"NOPE": v}}); err == nil {
		t.Error("a value for an unknown secret was accepted")
	}
}

func TestInitRequiredExternalListed(t *testing.T) {
	c, o := catalogue(t)
	for i, s := range c.Secrets {
		if s.Name == "SMTP_PASSWORD" || s.Name == "ALERT_EMAIL_TO" {
			c.Secrets[i].Policy.Optional = false
		}
	}
	if got := MissingRequired(c, nil); strings.Join(got, ",") != "ALERT_EMAIL_TO,SMTP_PASSWORD" {
		t.Fatalf("MissingRequired = %v", got)
	}
	rep := run(t)(InitSteps(InitOptions{Options: o}))
	st := statuses(rep)
	if st["secrets.write.SMTP_PASSWORD"] != step.StatusFailed || st["secrets.write.ALERT_EMAIL_TO"] != step.StatusFailed {
		t.Fatalf("required externals not both failed: %v", st)
	}
	if st["secrets.write.REDIS_PASSWORD"] != step.StatusChanged {
		t.Fatal("other secrets not written with KeepGoing")
	}
}

func TestCheckFindsAndFixRepairs(t *testing.T) {
	c, o := catalogue(t)
	run(t)(InitSteps(InitOptions{Options: o}))
	orig := readAll(t, c.Dir)
	p := func(n string) string { return filepath.Join(c.Dir, n) }
	os.WriteFile(p("REDIS_PASSWORD"), append(append([]byte{}, orig["REDIS_PASSWORD"]...), '\r', '\n'), 0o644)
	os.WriteFile(p("GRAFANA_PASSWORD"), utf16le(string(orig["GRAFANA_PASSWORD"]), true), 0o644)
	os.WriteFile(p("POSTGRES_PASSWORD_DSN"), []byte("postgresql://claire_user:wrong@cdb_postgres:5432/claire_de_binare?sslmode=disable"), 0o644)
	os.Remove(p("SMTP_FROM"))
	os.Mkdir(p("SMTP_FROM"), 0o755) // what old Docker Desktop left behind
	os.Remove(p("ALERT_EMAIL_TO"))
	if runtime.GOOS != "windows" {
		os.Chmod(p("POSTGRES_PASSWORD"), 0o666)
		os.Chmod(c.Dir, 0o755)
	}

	rep := checkAll(o)
	got := map[string]bool{}
	for _, s := range rep.Secrets {
		for _, pr := range s.Problems {
			got[s.Name+":"+pr.Code] = true
			if strings.Contains(pr.Message, string(orig[s.Name])) && len(orig[s.Name]) > 0 {
				t.Errorf("%s: message contains the secret", s.Name)
			}
		}
	}
	want := []string{"REDIS_PASSWORD:crlf", "GRAFANA_PASSWORD:utf16", "POSTGRES_PASSWORD_DSN:dsn-mismatch", "SMTP_FROM:directory", "ALERT_EMAIL_TO:missing"}
	if runtime.GOOS != "windows" {
		want = append(want, "POSTGRES_PASSWORD:permissions")
		if len(rep.Folder) == 0 || rep.Folder[0].Code != CodeFolder {
			t.Errorf("folder problems: %+v", rep.Folder)
		}
	}
	for _, w := range want {
		if !got[w] {
			t.Errorf("check missed %s (got %v)", w, got)
		}
	}
	if rep.Errors() == 0 {
		t.Fatal("no errors")
	}

	fixRep := run(t)(FixSteps(o))
	if fixRep.Failed() {
		t.Fatalf("fix failed: %+v", fixRep.Results)
	}
	after := readAll(t, c.Dir)
	for _, n := range []string{"REDIS_PASSWORD", "GRAFANA_PASSWORD", "POSTGRES_PASSWORD_DSN"} {
		if !bytes.Equal(after[n], orig[n]) {
			t.Errorf("%s not restored to the clean bytes", n)
		}
		if bs, _ := Backups(c.Dir, n); len(bs) != 1 {
			t.Errorf("%s: %d backups, want 1", n, len(bs))
		}
	}
	if rep := checkAll(o); rep.Errors() != 0 {
		t.Fatalf("after fix: %+v %+v", rep.Folder, rep.Secrets)
	}
	if bs, _ := Backups(c.Dir, "GRAFANA_PASSWORD"); len(bs) == 1 {
		var warned bool
		for _, r := range fixRep.Results {
			warned = warned || strings.Contains(r.Detail, "cdb_grafana_data")
		}
		if !warned {
			t.Error("fix of GRAFANA_PASSWORD did not warn about its volume")
		}
	}
	// Fix again: nothing to do.
	for _, r := range run(t)(FixSteps(o)).Results {
		if r.Status != step.StatusDone && runtime.GOOS != "windows" {
			t.Errorf("second fix: %s %s", r.Step, r.Status)
		}
	}
}

func TestFixLeavesUnfixable(t *testing.T) {
	c, o := catalogue(t)
	run(t)(InitSteps(InitOptions{Options: o}))
	p := filepath.Join(c.Dir, "SMTP_USER")
	bad := []byte("a\x00b")
	os.WriteFile(p, bad, 0o644)
	rep := run(t)(FixSteps(o))
	if statuses(rep)["secrets.fix.SMTP_USER"] != step.StatusFailed || !bytes.Equal(mustRead(t, p), bad) {
		t.Fatal("unfixable value was touched or not reported")
	}
}

func TestRotate(t *testing.T) {
	c, o := catalogue(t)
	run(t)(InitSteps(InitOptions{Options: o}))
	before := readAll(t, c.Dir)
	if _, err := RotateSteps(RotateOptions{Options: o, Name: "POSTGRES_PASSWORD"}); !errors.Is(err, ErrVolume) {
		t.Fatalf("rotate of a volume-kept secret without --force-volume: %v", err)
	}
	for _, n := range []string{"POSTGRES_PASSWORD_DSN", "SMTP_USER", "NOPE"} {
		if _, err := RotateSteps(RotateOptions{Options: o, Name: n}); err == nil {
			t.Errorf("rotate %s accepted", n)
		}
	}
	rep := run(t)(RotateSteps(RotateOptions{Options: o, Name: "POSTGRES_PASSWORD", ForceVolume: true}))
	if rep.Failed() {
		t.Fatalf("%+v", rep.Results)
	}
	after := readAll(t, c.Dir)
	if bytes.Equal(before["POSTGRES_PASSWORD"], after["POSTGRES_PASSWORD"]) || bytes.Equal(before["POSTGRES_PASSWORD_DSN"], after["POSTGRES_PASSWORD_DSN"]) {
		t.Fatal("password or DSN not rotated")
	}
	if !bytes.Equal(before["REDIS_PASSWORD"], after["REDIS_PASSWORD"]) {
		t.Fatal("rotate touched another secret")
	}
	bs, _ := Backups(c.Dir, "POSTGRES_PASSWORD")
	if len(bs) != 1 || !bytes.Equal(mustRead(t, bs[0]), before["POSTGRES_PASSWORD"]) {
		t.Fatal("old password not in the backup")
	}
	if rep := checkAll(o); rep.Errors() != 0 {
		t.Fatalf("after rotate: %+v", rep.Secrets)
	}
	if rep := run(t)(RotateSteps(RotateOptions{Options: o, Name: "REDIS_PASSWORD"})); rep.Failed() {
		t.Fatal("rotate REDIS_PASSWORD failed")
	}
}

func TestFromEnv(t *testing.T) {
	c, o := catalogue(t)
	env := platform.MapEnvironment{}
	_, err := FromEnvSteps(FromEnvOptions{Options: o, Environ: env})
	var fe *FromEnvError
	if !errors.As(err, &fe) || strings.Join(fe.Missing, ",") != "CDB_SECRET_GRAFANA_PASSWORD,CDB_SECRET_POSTGRES_PASSWORD,CDB_SECRET_REDIS_PASSWORD" {
		t.Fatalf("missing not all listed: %v", err)
	}
	if _, err := os.Stat(c.Dir); err == nil {
		t.Fatal("something was written although variables were missing")
	}
	env["CDB_SECRET_REDIS_PASSWORD"] = "redis-pw-from-ci-0123456789abcd\n" // echo adds a newline
	env["CDB_SECRET_POSTGRES_PASSWORD"] = "pg/pw+from@ci"
	env["CDB_SECRET_GRAFANA_PASSWORD"] = "grafana-pw\r\n"
	env["CDB_SECRET_MEXC_API_KEY_TXT"] = "key123"
	_, err = FromEnvSteps(FromEnvOptions{Options: o, Environ: env})
	if !errors.As(err, &fe) || len(fe.Invalid) != 1 || !strings.HasPrefix(fe.Invalid[0], "CDB_SECRET_GRAFANA_PASSWORD") || strings.Contains(err.Error(), "grafana-pw") {
		t.Fatalf("CR not rejected by name only: %v", err)
	}
	env["CDB_SECRET_GRAFANA_PASSWORD"] = "grafana-pw"
	env["CDB_SECRET_POSTGRES_PASSWORD_DSN"] = "postgresql://wrong"
	if _, err = FromEnvSteps(FromEnvOptions{Options: o, Environ: env}); !errors.As(err, &fe) {
		t.Fatal("a wrong DSN variable was accepted")
	}
	delete(env, "CDB_SECRET_POSTGRES_PASSWORD_DSN")
	rep := run(t)(FromEnvSteps(FromEnvOptions{Options: o, Environ: env}))
	if rep.Failed() {
		t.Fatalf("%+v", rep.Results)
	}
	files := readAll(t, c.Dir)
	if string(files["REDIS_PASSWORD"]) != "redis-pw-from-ci-0123456789abcd" || string(files["MEXC_API_KEY.txt"]) != "key123" || len(files["SMTP_USER"]) != 0 {
		t.Fatal("from-env bytes differ")
	}
	u, _ := url.Parse(string(files["POSTGRES_PASSWORD_DSN"]))
	if pw, _ := u.User.Password(); pw != "pg/pw+from@ci" {
		t.Fatal("DSN not derived from the CI password")
	}
	for _, r := range run(t)(FromEnvSteps(FromEnvOptions{Options: o, Environ: env})).Results {
		if r.Status != step.StatusDone && runtime.GOOS != "windows" {
			t.Errorf("second from-env: %s %s", r.Step, r.Status)
		}
	}
}

func TestPurge(t *testing.T) {
	c, o := catalogue(t)
	run(t)(InitSteps(InitOptions{Options: o, Force: false}))
	run(t)(InitSteps(InitOptions{Options: o, Force: true}))
	removed, err := Purge(c.Dir, c.Names())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(c.Dir); err == nil {
		t.Fatalf("folder still there after purge (removed %d)", len(removed))
	}
	// Unknown files keep the folder.
	run(t)(InitSteps(InitOptions{Options: o}))
	os.WriteFile(filepath.Join(c.Dir, "mine.txt"), []byte("x"), 0o600)
	if _, err := Purge(c.Dir, c.Names()); err != nil {
		t.Fatal(err)
	}
	ents, _ := os.ReadDir(c.Dir)
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	if strings.Join(names, ",") != "mine.txt" {
		t.Fatalf("left %v", names)
	}
}

func TestFolderStepRefusesSymlinkAndGitWorktree(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("symlinks need Developer Mode on Windows")
	}
	base := testenv.TempDir(t)
	real := filepath.Join(base, "real")
	os.Mkdir(real, 0o700)
	link := filepath.Join(base, "link")
	os.Symlink(real, link)
	if _, err := (&FolderStep{Dir: link}).Plan(context.Background()); !errors.Is(err, platform.ErrSymlink) {
		t.Errorf("symlinked folder: %v", err)
	}
	git := testenv.NeedCommand(t, "git")
	repo := filepath.Join(base, "repo")
	os.Mkdir(repo, 0o755)
	if out, err := execCmd(git, "init", "-q", repo); err != nil {
		t.Fatalf("git init: %v %s", err, out)
	}
	dir := filepath.Join(repo, ".secrets")
	if _, err := (&FolderStep{Dir: dir, Repo: repo}).Plan(context.Background()); !errors.Is(err, ErrInWorktree) {
		t.Errorf("unignored folder in the work tree: %v", err)
	}
	os.WriteFile(filepath.Join(repo, ".gitignore"), []byte(".secrets/\n"), 0o644)
	if _, err := (&FolderStep{Dir: dir, Repo: repo}).Plan(context.Background()); err != nil {
		t.Errorf("ignored folder refused: %v", err)
	}
}

// checkAll is CheckAll, minus what Wine cannot do: it accepts
// SetNamedSecurityInfo and changes nothing, so under Wine every DACL reads
// back as inherited. The DACL rule is tested as data (TestPrivateDACL); the
// OS effect is verified on real Windows only.
func checkAll(o Options) CheckReport {
	rep := CheckAll(context.Background(), CheckOptions{Options: o})
	if runtime.GOOS != "windows" {
		return rep
	}
	keep := func(ps []Problem) []Problem {
		var out []Problem
		for _, p := range ps {
			if p.Code != CodeMode && p.Code != CodeFolder {
				out = append(out, p)
			}
		}
		return out
	}
	rep.Folder = keep(rep.Folder)
	for i := range rep.Secrets {
		rep.Secrets[i].Problems = keep(rep.Secrets[i].Problems)
	}
	return rep
}

func TestPrivateDACL(t *testing.T) {
	sid := "S-1-5-21-1-2-3-1001"
	for sddl, want := range map[string]bool{
		"D:P(A;;FA;;;" + sid + ")":                              true,
		"D:P(A;;FA;;;" + sid + ")(A;;FA;;;SY)":                  true,
		"D:(A;;FA;;;" + sid + ")":                               false, // not protected: inherits the parent's ACEs
		"D:P(A;;FA;;;" + sid + ")(A;;0x1200a9;;;WD)":            false, // Everyone may read
		"D:(A;;FA;;;SY)(A;;FA;;;" + sid + ")(A;;0x1200a9;;;WD)": false, // what Wine reports
		"D:P(A;;FA;;;S-1-5-21-9-9-9-1002)":                      false, // someone else
	} {
		if got := privateDACL(sddl, sid); got != want {
			t.Errorf("privateDACL(%s) = %v, want %v", sddl, got, want)
		}
	}
}

func TestFolderStepRefusesForeignOwner(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("ownership on Windows is a SID; tested on real Windows only")
	}
	testenv.Need(t, os.Geteuid() == 0, "root, to give a folder to another user (the CI container runs as root)")
	dir := filepath.Join(testenv.TempDir(t), "theirs")
	os.Mkdir(dir, 0o700)
	if err := os.Chown(dir, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	_, err := (&FolderStep{Dir: dir}).Plan(context.Background())
	if !errors.Is(err, platform.ErrForeignOwner) {
		t.Fatalf("foreign-owned folder: %v", err)
	}
	res, _ := (&FolderStep{Dir: dir}).Apply(context.Background())
	if res.Status != step.StatusFailed {
		t.Fatal("Apply took over a foreign-owned folder")
	}
	fi, _ := os.Stat(dir)
	if fi.Mode().Perm() != 0o700 {
		t.Fatal("the foreign folder's mode was changed")
	}
}

func TestFolderStepTightensLooseFolder(t *testing.T) {
	dir := filepath.Join(testenv.TempDir(t), "loose")
	os.Mkdir(dir, 0o755)
	os.Chmod(dir, 0o755)
	if runtime.GOOS == "windows" {
		// A new folder inherits its parent's DACL: not private. Real
		// Windows tightens it and reads it back; where ACLs are not kept
		// (Wine) the step plans nothing and says so, instead of ✓.
		enforced, _ := platform.PermissionsEnforced(dir)
		c, err := (&FolderStep{Dir: dir}).Plan(context.Background())
		if err != nil || c.None != !enforced {
			t.Fatalf("plan: %v none=%v (%s), permissions enforced here: %v", err, c.None, c.Summary, enforced)
		}
		res, _ := (&FolderStep{Dir: dir}).Apply(context.Background())
		switch {
		case enforced && (res.Status != step.StatusChanged || platform.CheckPrivateDir(dir, false) != nil):
			t.Fatalf("apply: %s %s; check after: %v", res.Status, res.Detail, platform.CheckPrivateDir(dir, false))
		case !enforced && (res.Status != step.StatusSkipped || !strings.Contains(res.Detail, "not enforced here")):
			t.Fatalf("apply where ACLs are not kept: %s %s", res.Status, res.Detail)
		}
		return
	}
	c, err := (&FolderStep{Dir: dir}).Plan(context.Background())
	if err != nil || c.None {
		t.Fatalf("plan: %v none=%v", err, c.None)
	}
	res, _ := (&FolderStep{Dir: dir}).Apply(context.Background())
	if res.Status != step.StatusChanged {
		t.Fatalf("apply: %s %s", res.Status, res.Detail)
	}
	wantMode(t, dir, 0o700)
}

// TestFixDoesNotLoopWherePermissionsAreNotEnforced: under Wine the ACL is
// set and not kept, and `secrets fix` used to say ✓ while `secrets check`
// failed again, forever. On every OS now: after init, check finds no error
// and fix plans and changes nothing. Where this system does not keep the
// permissions (Wine; a FAT drive on Windows), every claim about them says
// "set but not enforced here" and check warns once, unfixable; elsewhere no
// such words appear.
func TestFixDoesNotLoopWherePermissionsAreNotEnforced(t *testing.T) {
	c, o := catalogue(t)
	rep := run(t)(InitSteps(InitOptions{Options: o}))
	if rep.Failed() {
		t.Fatalf("init failed: %+v", rep.Results)
	}
	enforced, why := platform.PermissionsEnforced(c.Dir)
	if testenv.UnderWine() && enforced {
		t.Fatal("PermissionsEnforced says yes under Wine, which keeps no ACLs")
	}
	t.Logf("permissions enforced here: %v %s", enforced, why)
	for _, r := range rep.Results {
		claims := strings.Contains(r.Detail, "private ACL") || strings.Contains(r.Detail, "mode 0") || r.Step == "secrets.folder"
		if !claims || r.Status == step.StatusSkipped && r.Step != "secrets.folder" {
			continue
		}
		if says := strings.Contains(r.Detail, "not enforced here"); says == enforced {
			t.Errorf("%s: %q (permissions enforced here: %v)", r.Step, r.Detail, enforced)
		}
	}
	check := func(when string) {
		t.Helper()
		rep := CheckAll(context.Background(), CheckOptions{Options: o})
		if rep.Errors() != 0 {
			t.Fatalf("%s: check finds errors: %+v %+v", when, rep.Folder, rep.Secrets)
		}
		var notEnforced []Problem
		for _, p := range rep.Folder {
			if p.Code == CodeNotEnforced {
				notEnforced = append(notEnforced, p)
			}
		}
		switch {
		case enforced && len(notEnforced) > 0:
			t.Errorf("%s: warns %q where permissions are enforced", when, notEnforced[0].Message)
		case !enforced && (len(notEnforced) != 1 || notEnforced[0].Severity != SevWarning || notEnforced[0].Fixable):
			t.Errorf("%s: want one unfixable warning that permissions are not enforced, got %+v", when, rep.Folder)
		}
	}
	check("after init")
	steps, err := FixSteps(o)
	if err != nil {
		t.Fatal(err)
	}
	plan, _ := step.Run(context.Background(), steps, step.Options{DryRun: true})
	for _, p := range plan.Plans {
		if !p.None {
			t.Errorf("fix after init plans %q: the next check would ask for it again", p.Summary)
		}
	}
	for _, r := range run(t)(FixSteps(o)).Results {
		if r.Status == step.StatusChanged || r.Status == step.StatusFailed {
			t.Errorf("fix after init: %s %s %s", r.Step, r.Status, r.Detail)
		}
		if r.Status == step.StatusDone && strings.Contains(r.Detail, "private") && !enforced {
			t.Errorf("fix claims %q where permissions are not enforced", r.Detail)
		}
	}
	check("after fix")
}

// Issue 13 item 1: `cd $HOME && git init`, then the default secrets folder
// (<Documents>/.secrets/.cdb) sits in a dotfiles repository: refused, with
// the exact line for $HOME/.gitignore, until git ignores it there.
func TestFolderInDotfilesRepoRefused(t *testing.T) {
	git := testenv.NeedCommand(t, "git")
	home := filepath.Join(testenv.TempDir(t), "home")
	if out, err := execCmd(git, "init", "-q", home); err != nil {
		t.Fatalf("git init: %v %s", err, out)
	}
	dir := filepath.Join(home, "Documents", ".secrets", ".cdb")
	_, err := (&FolderStep{Dir: dir}).Plan(context.Background())
	if !errors.Is(err, ErrInWorktree) || !strings.Contains(err.Error(), filepath.Join(home, ".gitignore")+": /Documents/.secrets/.cdb/") {
		t.Fatalf("dotfiles repo: %v", err)
	}
	os.WriteFile(filepath.Join(home, ".gitignore"), []byte("/Documents/.secrets/.cdb/\n"), 0o644)
	if _, err := (&FolderStep{Dir: dir}).Plan(context.Background()); err != nil {
		t.Fatalf("ignored there, still refused: %v", err)
	}
}

// Issue 13 item 11: `POSTGRES_USER=alice secrets init`, then a plain check:
// the DSN's user is reported as a user mismatch (not a wrong password), and
// a POSTGRES_USER in compose's .env counts as compose would count it.
func TestDSNUserResolvedLikeCompose(t *testing.T) {
	src, err := filepath.Abs("testdata/cdbrepo")
	if err != nil {
		t.Fatal(err)
	}
	repo := filepath.Join(testenv.TempDir(t), "repo")
	if err := os.CopyFS(repo, os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(testenv.TempDir(t), "s")
	c, err := Discover(context.Background(), DiscoverOptions{Repo: repo, Manifest: manifest.Default(), Dir: dir, Env: platform.MapEnvironment{}})
	if err != nil {
		t.Fatal(err)
	}
	o := Options{Catalogue: c, Mode: 0o644, Env: map[string]string{"POSTGRES_USER": "alice"}, Repo: repo, Project: "cdb"}
	run(t)(InitSteps(InitOptions{Options: o}))

	o.Env = map[string]string{}
	var dsn []Problem
	for _, s := range checkAll(o).Secrets {
		if s.Name == "POSTGRES_PASSWORD_DSN" {
			dsn = s.Problems
		}
	}
	if len(dsn) != 1 || dsn[0].Code != CodeDSNUser || !strings.Contains(dsn[0].Message, `"alice"`) ||
		!strings.Contains(dsn[0].Message, `"claire_user"`) || !strings.Contains(dsn[0].Message, "the default") {
		t.Fatalf("DSN problems: %+v", dsn)
	}

	// compose's .env (next to the first compose file) sets the user: fine.
	envFile := filepath.Join(repo, filepath.Dir(c.Files[0]), ".env")
	if err := os.WriteFile(envFile, []byte("# local\nexport POSTGRES_USER=\"alice\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, s := range checkAll(o).Secrets {
		if s.Name == "POSTGRES_PASSWORD_DSN" && len(s.Problems) != 0 {
			t.Fatalf("with POSTGRES_USER in %s: %+v", envFile, s.Problems)
		}
	}
	// The environment compose gets wins over .env, as in compose.
	o.Env = map[string]string{"POSTGRES_USER": "bob"}
	for _, s := range checkAll(o).Secrets {
		if s.Name == "POSTGRES_PASSWORD_DSN" && (len(s.Problems) != 1 || !strings.Contains(s.Problems[0].Message, "from the environment")) {
			t.Fatalf("POSTGRES_USER=bob in the environment: %+v", s.Problems)
		}
	}
}

// Issue 13 item 10: rotate on a read-only (0500) secrets folder refuses with
// the reason and the fix, and neither widens the folder nor touches a file.
func TestRotateRespectsReadOnlyFolder(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Unix modes; Windows uses a DACL (tested as data in internal/platform)")
	}
	c, o := catalogue(t)
	run(t)(InitSteps(InitOptions{Options: o}))
	before := readAll(t, c.Dir)
	if err := os.Chmod(c.Dir, 0o500); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(c.Dir, 0o700) })
	rep := run(t)(RotateSteps(RotateOptions{Options: o, Name: "REDIS_PASSWORD"}))
	var folder step.Result
	for _, r := range rep.Results {
		if r.Step == "secrets.folder" {
			folder = r
		}
	}
	if folder.Status != step.StatusFailed || !strings.Contains(folder.Detail, "read-only (mode 0500)") || !strings.Contains(folder.Fix, "chmod u+w") {
		t.Fatalf("rotate on a 0500 folder: %+v", rep.Results)
	}
	if st, err := os.Stat(c.Dir); err != nil || st.Mode().Perm() != 0o500 {
		t.Fatalf("the folder's mode was changed: %v %v", st.Mode(), err)
	}
	if after := readAll(t, c.Dir); !bytes.Equal(before["REDIS_PASSWORD"], after["REDIS_PASSWORD"]) {
		t.Fatal("a secret was rotated in a read-only folder")
	}
}

// TestGitReachAsksOncePerCommand: a GitReach keeps the first answer about a
// folder (the .gitignore fixed afterwards is not seen by the same command:
// one git question per command), a new one asks again, and a nil one asks
// every time.
func TestGitReachAsksOncePerCommand(t *testing.T) {
	git := testenv.NeedCommand(t, "git")
	repo := filepath.Join(testenv.TempDir(t), "repo")
	os.Mkdir(repo, 0o755)
	if out, err := execCmd(git, "init", "-q", repo); err != nil {
		t.Fatalf("git init: %v %s", err, out)
	}
	dir := filepath.Join(repo, ".secrets")
	ctx := context.Background()
	reach := &GitReach{}
	if _, err := (&FolderStep{Dir: dir, Repo: repo, Reach: reach}).Plan(ctx); !errors.Is(err, ErrInWorktree) {
		t.Fatalf("unignored folder in the work tree: %v", err)
	}
	os.WriteFile(filepath.Join(repo, ".gitignore"), []byte(".secrets/\n"), 0o644)
	if _, err := reach.Check(ctx, repo, dir); !errors.Is(err, ErrInWorktree) {
		t.Errorf("the same command asked git again: %v", err)
	}
	if _, err := (&GitReach{}).Check(ctx, repo, dir); err != nil {
		t.Errorf("a new command still sees the old answer: %v", err)
	}
	var none *GitReach
	if _, err := none.Check(ctx, repo, dir); err != nil {
		t.Errorf("nil GitReach: %v", err)
	}
}
