package secrets

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/zalando/go-keyring"

	"github.com/claire-de-binare/cdb-setup/internal/step"
)

// These tests cover the pure logic (encoding, limits, naming, error
// classification, the deadline). The mirror itself is tested against the
// real keychains in keychain_real_test.go.

func TestKeychainEncodeRoundTrip(t *testing.T) {
	cases := map[string][]byte{
		"empty optional secret": {},
		"32-char password":      []byte("Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z"),
		"CRLF from Windows":     []byte("pw\r\n"),
		"NUL and high bytes":    {0, 1, 0xff, 0xfe, 'x', 0},
		"UTF-16 BOM":            {0xff, 0xfe, 'p', 0, 'w', 0},
		"trailing spaces":       []byte("pw  \n\n"),
	}
	for name, v := range cases {
		t.Run(name, func(t *testing.T) {
			enc := KeychainEncode(v)
			if !strings.HasPrefix(enc, keychainEncodingPrefix) {
				t.Fatal("encoded value lacks the prefix")
			}
			got, err := KeychainDecode(enc)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, v) {
				t.Fatal("round trip changed the bytes")
			}
		})
	}
}

func TestKeychainDecodeRefusesForeignValues(t *testing.T) {
	for _, s := range []string{"", "plain", "cdb-setup:b64:!!!", "go-keyring-base64:cHc="} {
		if _, err := KeychainDecode(s); err == nil {
			t.Errorf("decoding %q: want an error", s)
		}
	}
}

// FuzzKeychainDecode: any stored string either decodes to bytes that encode
// back to the same string, or is refused; never a panic.
func FuzzKeychainDecode(f *testing.F) {
	f.Add("cdb-setup:b64:")
	f.Add("cdb-setup:b64:cHc=")
	f.Add("cdb-setup:b64:cHc")
	f.Add("x")
	f.Fuzz(func(t *testing.T, s string) {
		b, err := KeychainDecode(s)
		if err != nil {
			return
		}
		if KeychainEncode(b) != s {
			t.Fatalf("decode/encode is not the identity for an accepted value")
		}
	})
}

func TestKeychainLimit(t *testing.T) {
	svc := KeychainService("cdb", "/home/alice/Documents/.secrets/.cdb")
	cases := []struct {
		goos    string
		limit   int
		backend string
	}{
		{"windows", 2560, "Windows Credential Manager"},
		{"linux", 100 * 1024, "Secret Service"},
		{"freebsd", 100 * 1024, "Secret Service"},
	}
	for _, c := range cases {
		l, b := KeychainLimit(c.goos, svc, "REDIS_PASSWORD")
		if l != c.limit || b != c.backend {
			t.Errorf("%s: got %d %q, want %d %q", c.goos, l, b, c.limit, c.backend)
		}
	}
	// macOS: the whole `security -i` command line (go-keyring base64-encodes
	// our already encoded value once more) must stay within 4096 bytes.
	l, b := KeychainLimit("darwin", svc, "REDIS_PASSWORD")
	if b != "macOS Keychain" {
		t.Fatalf("darwin backend %q", b)
	}
	if l < 2900 || l > 3100 {
		t.Fatalf("darwin limit %d is not the ~3000 bytes go-keyring documents", l)
	}
	// The limit applies to the encoded string: find the largest raw value
	// that fits and check the command line go-keyring would build.
	raw := 0
	for len(KeychainEncode(make([]byte, raw+1))) <= l {
		raw++
	}
	enc := KeychainEncode(make([]byte, raw))
	cmd := fmt.Sprintf("add-generic-password -U -s '%s' -a '%s' -w '%s'\n", svc, "REDIS_PASSWORD",
		"go-keyring-base64:"+base64Len(len(enc)))
	if len(cmd) > 4096 {
		t.Fatalf("a value at the darwin limit makes a %d-byte command (> 4096)", len(cmd))
	}
}

// base64Len is a placeholder string as long as the base64 of n bytes.
func base64Len(n int) string { return strings.Repeat("A", (n+2)/3*4) }

func TestKeychainFitsReportsSize(t *testing.T) {
	k := &Keychain{GOOS: "windows"}
	svc := KeychainService("cdb", "C:\\Users\\a\\Documents\\.secrets\\.cdb")
	if err := k.fits(svc, "REDIS_PASSWORD", "D", make([]byte, 32)); err != nil {
		t.Fatalf("a 32-byte password must fit: %v", err)
	}
	err := k.fits(svc, "TLS_KEY", "D", make([]byte, 3000))
	if !IsKeychainKind(err, KeychainTooBig) {
		t.Fatalf("3000 bytes on Windows: want too-big, got %v", err)
	}
	for _, want := range []string{"TLS_KEY", "3000 bytes", "Windows Credential Manager", "2560", "not mirrored"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("message %q lacks %q", err, want)
		}
	}
	if !strings.Contains(step.FixOf(err), "back up D") {
		t.Errorf("fix %q does not name the folder", step.FixOf(err))
	}
}

func TestKeychainServiceNamespacing(t *testing.T) {
	a := KeychainService("cdb", "/home/a/Documents/.secrets/.cdb")
	b := KeychainService("cdb", "/home/a/src/cdb2/.cdb_local/.secrets")
	if a == b {
		t.Fatal("two secrets folders share a service")
	}
	if a != KeychainService("cdb", "/home/a/Documents/.secrets/.cdb/") {
		t.Fatal("the same folder (trailing slash) maps to another service")
	}
	if KeychainService("other", "/home/a/Documents/.secrets/.cdb") == a {
		t.Fatal("two projects share a service")
	}
	if !strings.HasPrefix(a, "cdb-setup:cdb:") || len(a) != len("cdb-setup:cdb:")+12 {
		t.Fatalf("service %q is not cdb-setup:<project>:<12 hex>", a)
	}
}

// TestKeychainClassify uses the error texts the backends really return
// (what this package's real-keychain tests observed).
func TestKeychainClassify(t *testing.T) {
	cases := []struct {
		err  error
		kind KeychainErrorKind
	}{
		{keyring.ErrNotFound, KeychainNotFound},
		{keyring.ErrSetDataTooBig, KeychainTooBig},
		{errors.New(`exec: "dbus-launch": executable file not found in $PATH`), KeychainNoSession},
		{errors.New("dial unix /run/user/1000/bus: connect: no such file or directory"), KeychainNoSession},
		{errors.New("dbus: couldn't determine address of session bus"), KeychainNoSession},
		{errors.New("The name org.freedesktop.secrets was not provided by any .service files"), KeychainNoProvider},
		{errors.New("org.freedesktop.DBus.Error.ServiceUnknown"), KeychainNoProvider},
		{errors.New("failed to unlock correct collection '/org/freedesktop/secrets/collection/login'"), KeychainLocked},
		{errors.New("Object does not exist at path “/org/freedesktop/secrets/collection/login”"), KeychainLocked},
		{errors.New("User interaction is not allowed."), KeychainLocked},
		{errors.New("A specified logon session does not exist. It may already have been terminated."), KeychainNoSession},
		{errors.New("Access is denied."), KeychainAccessDenied},
		{errors.New("something else"), KeychainOther},
	}
	for _, c := range cases {
		err := classifyKeyringError("get", "REDIS_PASSWORD", c.err)
		if !IsKeychainKind(err, c.kind) {
			t.Errorf("%q: got %v, want kind %s", c.err, err, c.kind)
		}
	}
}

func TestKeychainMessagesSayWhatToDo(t *testing.T) {
	dir := "/home/a/Documents/.secrets/.cdb"
	for _, c := range []struct {
		kind      KeychainErrorKind
		msg, fix  string
		available bool
	}{
		{KeychainNoSession, "your secrets stay only in " + dir, "back up " + dir, false},
		{KeychainNoProvider, "your secrets stay only in " + dir, "back up " + dir, false},
		{KeychainLocked, "locked", "unlock the keychain", false},
		{KeychainTimeout, "probably locked", "unlock the keychain", false},
		{KeychainAccessDenied, "access denied", "allow cdb-setup", false},
		{KeychainNotFound, "not in the keychain", "keychain push", true},
	} {
		e := &KeychainError{Kind: c.kind, Op: "get", Name: "/index", Dir: dir, Detail: "5s", Err: errors.New("cause")}
		if !strings.Contains(e.Error(), c.msg) {
			t.Errorf("%s: message %q lacks %q", c.kind, e.Error(), c.msg)
		}
		if !strings.Contains(e.Fix(), c.fix) {
			t.Errorf("%s: fix %q lacks %q", c.kind, e.Fix(), c.fix)
		}
		if KeychainUnavailable(e) == c.available {
			t.Errorf("%s: KeychainUnavailable = %v", c.kind, !c.available)
		}
	}
}

// hungBackend never answers, like a Secret Service waiting for a prompt.
type hungBackend struct {
	release chan struct{}
	mu      sync.Mutex
	calls   int
}

func (h *hungBackend) wait() {
	h.mu.Lock()
	h.calls++
	h.mu.Unlock()
	<-h.release
}
func (h *hungBackend) Get(string, string) (string, error) { h.wait(); return "", nil }
func (h *hungBackend) Set(string, string, string) error   { h.wait(); return nil }
func (h *hungBackend) Delete(string, string) error        { h.wait(); return nil }

func TestKeychainDeadline(t *testing.T) {
	h := &hungBackend{release: make(chan struct{})}
	t.Cleanup(func() { close(h.release) }) // let the abandoned goroutines finish
	k := &Keychain{Backend: h, Timeout: 50e6}
	_, err := k.Get(context.Background(), "svc", "/index")
	if !IsKeychainKind(err, KeychainTimeout) {
		t.Fatalf("want a timeout, got %v", err)
	}
	if !strings.Contains(err.Error(), "no answer within 50ms") {
		t.Fatalf("message %q does not name the deadline", err)
	}
	// Later calls fail at once instead of hanging again.
	err = k.Set(context.Background(), "svc", "REDIS_PASSWORD", KeychainEncode([]byte("x")))
	if !IsKeychainKind(err, KeychainTimeout) {
		t.Fatalf("second call: want a timeout, got %v", err)
	}
	h.mu.Lock()
	calls := h.calls
	h.mu.Unlock()
	if calls > 1 {
		t.Fatalf("the backend was called %d times after it hung", calls)
	}
}

func TestKeychainCancelled(t *testing.T) {
	h := &hungBackend{release: make(chan struct{})}
	t.Cleanup(func() { close(h.release) })
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	k := &Keychain{Backend: h}
	if _, err := k.Get(ctx, "svc", "x"); !errors.Is(err, context.Canceled) {
		t.Fatalf("want context.Canceled, got %v", err)
	}
}
