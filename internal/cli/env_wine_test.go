//go:build linux

package cli

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/claire-de-binare/cdb-setup/internal/testenv"
)

// wineRig runs the real Windows build of cdb-setup under Wine in a private
// clone of the test Wine prefix, so the registry it writes can be read back
// from the prefix's user.reg once wineserver has saved it.
type wineRig struct {
	wine, wineserver, prefix, exe string
}

func newWineRig(t *testing.T) *wineRig {
	t.Helper()
	wine := os.Getenv("CDB_SETUP_WINE64")
	if wine == "" {
		wine = "/usr/lib/wine/wine64"
	}
	_, err := os.Stat(wine)
	testenv.Need(t, err == nil, "wine64 (apt-get install wine64; scripts/test.sh)")
	server := filepath.Join(filepath.Dir(wine), "wineserver")
	src := os.Getenv("WINEPREFIX")
	_, err = os.Stat(filepath.Join(src, "drive_c", "windows", "system32", "bcryptprimitives.dll"))
	testenv.Need(t, src != "" && err == nil, "a Wine prefix with the ProcessPrng shim in WINEPREFIX (scripts/test.sh creates it)")

	// A hard-linked clone (next to the shared prefix, so on the same file
	// system) is instant; the registry files, which wineserver rewrites, are
	// real copies so the shared prefix is never changed. A full copy is the
	// fallback where links are impossible.
	parent, err := os.MkdirTemp(filepath.Dir(filepath.Clean(src)), "cdbtest-prefix-")
	if err != nil {
		parent = testenv.TempDir(t)
	} else {
		t.Cleanup(func() { os.RemoveAll(parent) })
	}
	r := &wineRig{wine: wine, wineserver: server, prefix: filepath.Join(parent, "prefix")}
	if _, err := exec.Command("cp", "-al", src, r.prefix).CombinedOutput(); err != nil {
		os.RemoveAll(r.prefix)
		if out, err := exec.Command("cp", "-a", src, r.prefix).CombinedOutput(); err != nil {
			t.Fatalf("clone prefix: %v\n%s", err, out)
		}
	}
	for _, n := range []string{"user.reg", "system.reg", "userdef.reg"} {
		p := filepath.Join(r.prefix, n)
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		os.Remove(p)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	r.exe = filepath.Join(testenv.TempDir(t), "cdb-setup.exe")
	build := exec.Command("go", "build", "-o", r.exe, "github.com/claire-de-binare/cdb-setup/cmd/cdb-setup")
	build.Env = append(os.Environ(), "GOOS=windows", "GOARCH=amd64", "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build windows binary: %v\n%s", err, out)
	}
	t.Cleanup(func() { r.waitServer(t) })
	return r
}

func (r *wineRig) env() []string {
	return []string{"PATH=/usr/bin:/bin", "HOME=" + filepath.Dir(r.prefix), "WINEPREFIX=" + r.prefix, "WINEDEBUG=-all",
		"WINEDLLOVERRIDES=mscoree,mshtml,winemenubuilder.exe=d"}
}

func (r *wineRig) run(t *testing.T, args ...string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, r.wine, append([]string{r.exe}, args...)...)
	cmd.Env = r.env()
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), string(out)
	}
	if err != nil {
		t.Fatalf("wine %v: %v\n%s", args, err, out)
	}
	return 0, string(out)
}

// waitServer waits until this prefix's wineserver has exited, which is when
// it writes the registry to user.reg.
func (r *wineRig) waitServer(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, r.wineserver, "-w")
	cmd.Env = r.env()
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Logf("wineserver -w: %v %s", err, out)
	}
}

// userRegEnvironment returns the raw value lines of [Environment] in user.reg.
func (r *wineRig) userRegEnvironment(t *testing.T) map[string]string {
	t.Helper()
	f, err := os.Open(filepath.Join(r.prefix, "user.reg"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]string{}
	in := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		l := sc.Text()
		if strings.HasPrefix(l, "[") {
			in = strings.HasPrefix(l, "[Environment]")
			continue
		}
		if in {
			if k, v, ok := strings.Cut(l, "="); ok && strings.HasPrefix(k, `"`) {
				out[strings.Trim(k, `"`)] = v
			}
		}
	}
	return out
}

// TestEnvSetWindowsUnderWine runs `env set`, `env status` and `env unset` of
// the real Windows binary and reads the result from the registry file Wine
// keeps on disk. The WM_SETTINGCHANGE broadcast has no listener under Wine:
// this proves only that it returns.
func TestEnvSetWindowsUnderWine(t *testing.T) {
	r := newWineRig(t)
	value := `C:\cdb test\it's "here"`
	code, out := r.run(t, "env", "set", "--yes", "--wslenv", "--secrets-path", value)
	if code != 0 {
		t.Fatalf("env set: exit %d\n%s", code, out)
	}
	for _, s := range []string{`HKCU\Environment\SECRETS_PATH`, "REG_SZ", "VS Code", "WSLENV"} {
		if !strings.Contains(out, s) {
			t.Errorf("env set output lacks %q:\n%s", s, out)
		}
	}
	code, out = r.run(t, "env", "status", "--secrets-path", value)
	if code != 0 || !strings.Contains(out, `✓ HKCU\Environment\SECRETS_PATH`) {
		t.Errorf("env status: exit %d\n%s", code, out)
	}
	r.waitServer(t)
	env := r.userRegEnvironment(t)
	if got, want := env["SECRETS_PATH"], `"C:\\cdb test\\it's \"here\""`; got != want {
		t.Errorf("user.reg SECRETS_PATH = %s, want %s", got, want)
	}
	if got := env["WSLENV"]; got != `"SECRETS_PATH/p"` {
		t.Errorf("user.reg WSLENV = %s", got)
	}

	code, out = r.run(t, "env", "unset")
	if code != 0 {
		t.Fatalf("env unset: exit %d\n%s", code, out)
	}
	r.waitServer(t)
	env = r.userRegEnvironment(t)
	if v, ok := env["SECRETS_PATH"]; ok {
		t.Errorf("SECRETS_PATH still in user.reg after unset: %s", v)
	}
	if v, ok := env["WSLENV"]; ok {
		t.Errorf("WSLENV still in user.reg after unset (cdb-setup created it): %s", v)
	}
}
