package secrets

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	dbus "github.com/godbus/dbus/v5"

	"github.com/claire-de-binare/cdb-setup/internal/step"
	"github.com/claire-de-binare/cdb-setup/internal/testenv"
)

// The "no keychain" cases, for real: each one builds the broken situation
// (no session bus, a bus nobody serves the Secret Service on, a locked or
// hung gnome-keyring) and runs the keychain call in a child process, because
// go-keyring (godbus) reads DBUS_SESSION_BUS_ADDRESS from the process
// environment and caches its connection.

const (
	kcChildCase    = "CDB_SETUP_KEYCHAIN_CHILD"
	kcChildTimeout = "CDB_SETUP_KEYCHAIN_CHILD_TIMEOUT"
	kcChildDir     = "/home/alice/Documents/.secrets/.cdb"
	kcResultMarker = "KEYCHAIN-RESULT "
)

type kcChildResult struct {
	Kind    KeychainErrorKind `json:"kind"`
	Message string            `json:"message"`
	Fix     string            `json:"fix"`
}

// TestKeychainChild is the child process of TestKeychainUnavailable; run on
// its own it does nothing.
func TestKeychainChild(t *testing.T) {
	if os.Getenv(kcChildCase) == "" {
		// Not a skip: nothing is missing, this is only the child's entry point.
		return
	}
	timeout, err := time.ParseDuration(os.Getenv(kcChildTimeout))
	if err != nil {
		t.Fatal(err)
	}
	m := &KeychainMirror{Keychain: &Keychain{Timeout: timeout}, Project: "cdbtest", Dir: kcChildDir,
		Service: KeychainService("cdbtest", kcChildDir), Names: []string{"REDIS_PASSWORD"}}
	_, err = m.Status(context.Background())
	res := kcChildResult{Kind: "none"}
	if err != nil {
		res = kcChildResult{Kind: KeychainOther, Message: err.Error(), Fix: step.FixOf(err)}
		var ke *KeychainError
		if errors.As(err, &ke) {
			res.Kind = ke.Kind
		}
	}
	b, _ := json.Marshal(res)
	os.Stdout.WriteString(kcResultMarker + string(b) + "\n")
}

// kcRunChild runs TestKeychainChild with env replacing the D-Bus variables.
func kcRunChild(t *testing.T, env map[string]string, timeout string) kcChildResult {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestKeychainChild$", "-test.count=1")
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "DBUS_SESSION_BUS_ADDRESS", "XDG_RUNTIME_DIR", "PATH", kcChildCase, kcChildTimeout:
			continue
		}
		cmd.Env = append(cmd.Env, kv)
	}
	// An empty PATH: godbus must not autolaunch a bus with dbus-launch.
	cmd.Env = append(cmd.Env, kcChildCase+"=1", kcChildTimeout+"="+timeout, "PATH="+t.TempDir())
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	out, err := cmd.CombinedOutput()
	for _, line := range strings.Split(string(out), "\n") {
		if rest, ok := strings.CutPrefix(line, kcResultMarker); ok {
			var r kcChildResult
			if err := json.Unmarshal([]byte(rest), &r); err != nil {
				t.Fatal(err)
			}
			return r
		}
	}
	t.Fatalf("child gave no result (%v):\n%s", err, out)
	return kcChildResult{}
}

// kcBus starts a private session bus with no service files, so nothing is
// auto-activated on it (unlike dbus-run-session's default config, which
// activates gnome-keyring). It is stopped when the test ends.
func kcBus(t *testing.T) string {
	t.Helper()
	daemon := testenv.NeedCommand(t, "dbus-daemon")
	dir := t.TempDir()
	conf := filepath.Join(dir, "session.conf")
	err := os.WriteFile(conf, []byte(`<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:dir=`+dir+`</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
`), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(daemon, "--config-file="+conf, "--nofork", "--print-address")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	addr, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("dbus-daemon printed no address: %v", err)
	}
	return strings.TrimSpace(addr)
}

// kcKeyring starts gnome-keyring's Secret Service on the bus at addr, in
// the foreground so this test owns (and later kills) exactly that process.
// unlock creates and unlocks the login keyring as a desktop login would.
func kcKeyring(t *testing.T, addr string, unlock bool) *exec.Cmd {
	t.Helper()
	bin := testenv.NeedCommand(t, "gnome-keyring-daemon")
	home := t.TempDir()
	run := filepath.Join(home, "run")
	if err := os.Mkdir(run, 0o700); err != nil {
		t.Fatal(err)
	}
	args := []string{"--foreground", "--components=secrets"}
	if unlock {
		args = append(args, "--unlock")
	} else {
		args = append(args, "--start")
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = []string{"DBUS_SESSION_BUS_ADDRESS=" + addr, "HOME=" + home, "XDG_RUNTIME_DIR=" + run,
		"XDG_DATA_HOME=" + filepath.Join(home, "data"), "XDG_CONFIG_HOME=" + filepath.Join(home, "config"), "PATH=" + os.Getenv("PATH")}
	if unlock {
		cmd.Stdin = strings.NewReader("test-keyring-password") // the keyring's own password, not a secret of ours
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGCONT) // in case the test stopped it
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	conn := kcConn(t, addr)
	// Wait until the daemon owns the name (it registers asynchronously);
	// bounded so a broken daemon fails the test instead of hanging it.
	for i := 0; ; i++ {
		var owned bool
		if err := conn.BusObject().Call("org.freedesktop.DBus.NameHasOwner", 0, "org.freedesktop.secrets").Store(&owned); err != nil {
			t.Fatal(err)
		}
		if owned {
			break
		}
		if i == 400 {
			t.Fatal("gnome-keyring-daemon did not take org.freedesktop.secrets")
		}
		time.Sleep(25 * time.Millisecond)
	}
	return cmd
}

func kcConn(t *testing.T, addr string) *dbus.Conn {
	t.Helper()
	conn, err := dbus.Connect(addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

func TestKeychainUnavailable(t *testing.T) {
	noSession := "no keychain on this machine: there is no D-Bus session bus"
	stayOnly := "your secrets stay only in " + kcChildDir
	lockedMsg := "the keychain is locked and no unlock prompt could be shown"
	unlockFix := "unlock the keychain"

	t.Run("no session bus", func(t *testing.T) {
		r := kcRunChild(t, map[string]string{"XDG_RUNTIME_DIR": t.TempDir()}, "5s")
		kcExpect(t, r, KeychainNoSession, []string{noSession, stayOnly}, "back up "+kcChildDir)
	})
	t.Run("session bus socket gone", func(t *testing.T) {
		r := kcRunChild(t, map[string]string{"DBUS_SESSION_BUS_ADDRESS": "unix:path=" + filepath.Join(t.TempDir(), "bus")}, "5s")
		kcExpect(t, r, KeychainNoSession, []string{noSession, stayOnly}, "back up "+kcChildDir)
	})
	t.Run("bus without a Secret Service", func(t *testing.T) {
		addr := kcBus(t)
		r := kcRunChild(t, map[string]string{"DBUS_SESSION_BUS_ADDRESS": addr}, "5s")
		kcExpect(t, r, KeychainNoProvider, []string{"no keychain on this machine: the D-Bus session has no Secret Service", stayOnly}, "install and start a Secret Service")
	})
	t.Run("locked collection", func(t *testing.T) {
		addr := kcBus(t)
		kcKeyring(t, addr, true)
		conn := kcConn(t, addr)
		var locked []dbus.ObjectPath
		var prompt dbus.ObjectPath
		err := conn.Object("org.freedesktop.secrets", "/org/freedesktop/secrets").
			Call("org.freedesktop.Secret.Service.Lock", 0, []dbus.ObjectPath{"/org/freedesktop/secrets/collection/login"}).
			Store(&locked, &prompt)
		if err != nil || len(locked) != 1 {
			t.Fatalf("lock the login collection: %v %v", locked, err)
		}
		// gnome-keyring asks its prompter, which cannot start (no service
		// files, no display), and dismisses the prompt.
		r := kcRunChild(t, map[string]string{"DBUS_SESSION_BUS_ADDRESS": addr}, "5s")
		kcExpect(t, r, KeychainLocked, []string{"keychain get /index: " + lockedMsg}, unlockFix)
	})
	t.Run("keyring never unlocked", func(t *testing.T) {
		addr := kcBus(t)
		kcKeyring(t, addr, false)
		r := kcRunChild(t, map[string]string{"DBUS_SESSION_BUS_ADDRESS": addr}, "5s")
		kcExpect(t, r, KeychainLocked, []string{lockedMsg}, unlockFix)
	})
	t.Run("keychain does not answer: the deadline fires", func(t *testing.T) {
		addr := kcBus(t)
		kr := kcKeyring(t, addr, true)
		// A stopped daemon never replies, like one waiting for a prompt
		// nobody can see. Cleanup continues and kills it.
		if err := kr.Process.Signal(syscall.SIGSTOP); err != nil {
			t.Fatal(err)
		}
		r := kcRunChild(t, map[string]string{"DBUS_SESSION_BUS_ADDRESS": addr}, "1s")
		kcExpect(t, r, KeychainTimeout, []string{"keychain get /index: no answer within 1s", "probably locked"}, unlockFix)
	})
}

func kcExpect(t *testing.T, r kcChildResult, kind KeychainErrorKind, msgs []string, fix string) {
	t.Helper()
	if r.Kind != kind {
		t.Fatalf("kind %q, want %q (message: %s)", r.Kind, kind, r.Message)
	}
	for _, m := range msgs {
		if !strings.Contains(r.Message, m) {
			t.Errorf("message %q lacks %q", r.Message, m)
		}
	}
	if !strings.Contains(r.Fix, fix) {
		t.Errorf("fix %q lacks %q", r.Fix, fix)
	}
}
