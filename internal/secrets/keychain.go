package secrets

// The OS keychain mirror (issue 4): a copy of every secret file in the macOS
// Keychain, the Windows Credential Manager or a Linux Secret Service, so a
// wiped secrets folder is restored byte for byte instead of regenerated
// (docs/keychain.md). The files stay the source of
// truth: compose reads files, the keychain only keeps a copy.
//
// This file is the thin layer over go-keyring: the backend interface, the
// deadline every call runs under, the error classification and the encoding
// of exact bytes. keychain_mirror.go builds push/status/pull on top of it.

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/zalando/go-keyring"
)

// KeyringBackend is the part of go-keyring cdb-setup uses. The mirror logic is
// written once against it; the implementations are the real OS keychains
// (KeyringOS), so tests exercise the same code the user runs.
type KeyringBackend interface {
	Get(service, user string) (string, error)
	Set(service, user, value string) error
	Delete(service, user string) error
}

// KeyringOS is the operating system's keychain through go-keyring: macOS
// Keychain (via /usr/bin/security, value passed on stdin, never argv),
// Windows Credential Manager, or the Secret Service on the D-Bus session bus
// named by this process's DBUS_SESSION_BUS_ADDRESS.
type KeyringOS struct{}

func (KeyringOS) Get(service, user string) (string, error) { return keyring.Get(service, user) }
func (KeyringOS) Set(service, user, value string) error    { return keyring.Set(service, user, value) }
func (KeyringOS) Delete(service, user string) error        { return keyring.Delete(service, user) }

// DefaultKeychainTimeout bounds every keychain call. A locked collection with
// no prompter, or a hung keychain daemon, must not hang the wizard.
const DefaultKeychainTimeout = 5 * time.Second

// Keychain runs keyring calls under a deadline and classifies their errors.
type Keychain struct {
	// Backend is the keychain; nil means KeyringOS.
	Backend KeyringBackend
	// Timeout bounds each call; 0 means DefaultKeychainTimeout.
	Timeout time.Duration
	// GOOS selects the backend's size limit; "" means runtime.GOOS.
	GOOS string

	mu sync.Mutex
	// broken is the first timeout seen. Once one call has hung, the next
	// would hang too (same locked collection, same stuck daemon): every later
	// call fails at once with the same explanation instead of waiting again.
	broken *KeychainError
}

// KeychainErrorKind says why a keychain call failed, so the message can say
// what to do.
type KeychainErrorKind string

const (
	KeychainNoSession    KeychainErrorKind = "no-dbus-session"   // Linux: no session bus to talk to
	KeychainNoProvider   KeychainErrorKind = "no-secret-service" // a bus, but nobody provides org.freedesktop.secrets
	KeychainLocked       KeychainErrorKind = "locked"            // the collection is locked and could not be unlocked
	KeychainTimeout      KeychainErrorKind = "timeout"           // no answer within the deadline (most often: locked, waiting for an invisible prompt)
	KeychainAccessDenied KeychainErrorKind = "access-denied"
	KeychainTooBig       KeychainErrorKind = "too-big"
	KeychainNotFound     KeychainErrorKind = "not-found"
	KeychainOther        KeychainErrorKind = "other"
)

// KeychainError is a classified keychain failure. Its text names what
// happened and what the user can do; it never contains a secret value (the
// underlying errors come from go-keyring, D-Bus or the OS and carry none).
type KeychainError struct {
	Kind KeychainErrorKind
	// Op is "get", "set" or "delete"; Name the secret (or index) concerned.
	Op   string
	Name string
	// Dir is the secrets folder, named in "your secrets stay only in ...".
	Dir string
	// Detail is kind-specific: the size and limit for too-big, the
	// deadline for timeout.
	Detail string
	Err    error
}

func (e *KeychainError) Unwrap() error { return e.Err }

func (e *KeychainError) Error() string {
	what := e.Op
	if e.Name != "" {
		what += " " + e.Name
	}
	cause := ""
	if e.Err != nil {
		cause = " (" + e.Err.Error() + ")"
	}
	switch e.Kind {
	case KeychainNoSession:
		if e.Err != nil && strings.Contains(strings.ToLower(e.Err.Error()), "logon session") {
			// Windows: a service account or a non-interactive logon has no
			// Credential Manager.
			return fmt.Sprintf("no keychain on this machine: this Windows logon session has no Credential Manager%s; your secrets stay only in %s", cause, e.dirOr())
		}
		return fmt.Sprintf("no keychain on this machine: there is no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is unset or its socket is gone), so no Secret Service can be reached%s; your secrets stay only in %s", cause, e.dirOr())
	case KeychainNoProvider:
		return fmt.Sprintf("no keychain on this machine: the D-Bus session has no Secret Service (nothing provides org.freedesktop.secrets)%s; your secrets stay only in %s", cause, e.dirOr())
	case KeychainLocked:
		return fmt.Sprintf("keychain %s: the keychain is locked and no unlock prompt could be shown%s", what, cause)
	case KeychainTimeout:
		return fmt.Sprintf("keychain %s: no answer within %s; the keychain is probably locked and waiting for an unlock prompt nobody can see", what, e.Detail)
	case KeychainAccessDenied:
		return fmt.Sprintf("keychain %s: access denied%s", what, cause)
	case KeychainTooBig:
		return fmt.Sprintf("%s is too big for the keychain: %s; it is not mirrored", e.Name, e.Detail)
	case KeychainNotFound:
		return fmt.Sprintf("keychain %s: not in the keychain", what)
	default:
		return fmt.Sprintf("keychain %s: %v", what, e.Err)
	}
}

func (e *KeychainError) dirOr() string {
	if e.Dir == "" {
		return "the secrets folder"
	}
	return e.Dir
}

// Fix is the action that resolves the failure (step.Fixer).
func (e *KeychainError) Fix() string {
	backup := "back up the secrets folder"
	if e.Dir != "" {
		backup = "back up " + e.Dir
	}
	switch e.Kind {
	case KeychainNoSession:
		return "run cdb-setup inside your desktop session (where a keychain such as GNOME Keyring or KWallet runs); otherwise " + backup + " yourself"
	case KeychainNoProvider:
		return "install and start a Secret Service (gnome-keyring, KWallet 5.97+, or KeePassXC with Secret Service integration), or " + backup + " yourself"
	case KeychainLocked, KeychainTimeout:
		return "unlock the keychain (log in to the desktop session, or unlock the \"login\" keyring in Seahorse / Keychain Access), then run the command again; --keychain-timeout raises the deadline"
	case KeychainAccessDenied:
		return "allow cdb-setup when the keychain asks (Keychain Access on macOS: the entry's Access Control), then run the command again"
	case KeychainTooBig:
		return "this secret cannot be mirrored: " + backup + " yourself"
	case KeychainNotFound:
		return "run `cdb-setup keychain push` while the secret files are intact"
	}
	return ""
}

// IsKeychainKind reports whether err is a KeychainError of kind k.
func IsKeychainKind(err error, k KeychainErrorKind) bool {
	var ke *KeychainError
	return errors.As(err, &ke) && ke.Kind == k
}

// KeychainUnavailable reports whether err means there is no usable keychain
// at all (as opposed to one entry failing): callers such as `secrets init`
// then carry on without the mirror.
func KeychainUnavailable(err error) bool {
	var ke *KeychainError
	if !errors.As(err, &ke) {
		return false
	}
	switch ke.Kind {
	case KeychainNoSession, KeychainNoProvider, KeychainLocked, KeychainTimeout, KeychainAccessDenied:
		return true
	}
	return false
}

func (k *Keychain) backend() KeyringBackend {
	if k.Backend == nil {
		return KeyringOS{}
	}
	return k.Backend
}

func (k *Keychain) timeout() time.Duration {
	if k.Timeout <= 0 {
		return DefaultKeychainTimeout
	}
	return k.Timeout
}

func (k *Keychain) goos() string {
	if k.GOOS == "" {
		return runtime.GOOS
	}
	return k.GOOS
}

// call runs fn under the deadline. go-keyring has no context: a hung call
// (a Secret Service waiting forever for a prompt's Completed signal) cannot be
// cancelled, so its goroutine is abandoned and leaks until the process exits.
// That is acceptable for a short-lived CLI; the caller gets a Timeout error
// and every later call fails fast (see broken).
func (k *Keychain) call(ctx context.Context, op, name string, fn func() error) error {
	k.mu.Lock()
	if b := k.broken; b != nil {
		k.mu.Unlock()
		e := *b
		e.Op, e.Name = op, name
		return &e
	}
	k.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return err
	}
	done := make(chan error, 1) // buffered: an abandoned call can still finish without blocking
	go func() { done <- fn() }()
	t := time.NewTimer(k.timeout())
	defer t.Stop()
	select {
	case err := <-done:
		if err == nil {
			return nil
		}
		return classifyKeyringError(op, name, err)
	case <-t.C:
		e := &KeychainError{Kind: KeychainTimeout, Op: op, Name: name, Detail: k.timeout().String()}
		k.mu.Lock()
		if k.broken == nil {
			k.broken = e
		}
		k.mu.Unlock()
		return e
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Get reads the raw stored string of user in service.
func (k *Keychain) Get(ctx context.Context, service, user string) (string, error) {
	var v string
	err := k.call(ctx, "get", user, func() error {
		var err error
		v, err = k.backend().Get(service, user)
		return err
	})
	if err != nil {
		return "", err
	}
	return v, nil
}

// Set stores the raw string value as user in service.
func (k *Keychain) Set(ctx context.Context, service, user, value string) error {
	return k.call(ctx, "set", user, func() error { return k.backend().Set(service, user, value) })
}

// Delete removes user from service; a missing entry is a NotFound error.
func (k *Keychain) Delete(ctx context.Context, service, user string) error {
	return k.call(ctx, "delete", user, func() error { return k.backend().Delete(service, user) })
}

// classifyKeyringError maps the error texts the backends really produce
// (those the real-keychain tests saw on Linux) to a kind. Matching on text is
// unavoidable: go-keyring passes D-Bus, exec and Win32 errors through as-is.
func classifyKeyringError(op, name string, err error) error {
	kind := KeychainOther
	msg := err.Error()
	lower := strings.ToLower(msg)
	switch {
	case errors.Is(err, keyring.ErrNotFound):
		kind = KeychainNotFound
	case errors.Is(err, keyring.ErrSetDataTooBig):
		kind = KeychainTooBig
	case strings.Contains(msg, "dbus-launch"),
		strings.Contains(lower, "couldn't determine address of session bus"),
		strings.Contains(lower, "dial unix"),
		strings.Contains(lower, "connection refused") && strings.Contains(lower, "bus"),
		strings.Contains(lower, "no such file or directory") && strings.Contains(lower, "bus"),
		strings.Contains(lower, "dbus: authentication failed"),
		strings.Contains(lower, "logon session does not exist"):
		kind = KeychainNoSession
	case strings.Contains(msg, "was not provided by any .service files"),
		strings.Contains(msg, "org.freedesktop.DBus.Error.ServiceUnknown"),
		strings.Contains(msg, "org.freedesktop.DBus.Error.NameHasNoOwner"):
		kind = KeychainNoProvider
	case strings.Contains(lower, "failed to unlock correct collection"),
		strings.Contains(msg, "org.freedesktop.Secret.Error.IsLocked"),
		strings.Contains(lower, "is locked"),
		strings.Contains(lower, "prompt") && strings.Contains(lower, "dismiss"),
		// macOS errSecInteractionNotAllowed: the keychain is locked and
		// there is no GUI to ask (an SSH session).
		strings.Contains(lower, "user interaction is not allowed"),
		strings.Contains(msg, "Object does not exist at path") && strings.Contains(msg, "/collection/"):
		// The last one: gnome-keyring started without --unlock has no
		// login collection yet, and creating it needs a prompt.
		kind = KeychainLocked
	case errors.Is(err, fs.ErrPermission),
		strings.Contains(lower, "access denied"), strings.Contains(lower, "access is denied"), strings.Contains(lower, "accessdenied"),
		strings.Contains(lower, "not allowed"), strings.Contains(lower, "authorization"):
		kind = KeychainAccessDenied
	}
	return &KeychainError{Kind: kind, Op: op, Name: name, Err: err}
}

// keychainEncodingPrefix marks a value encoded by cdb-setup. go-keyring
// stores strings and some backends trim or re-encode them (macOS trims
// whitespace, Secret Service declares text/plain): base64 of the exact bytes
// keeps an empty value, NUL, CR and trailing newlines intact.
const keychainEncodingPrefix = "cdb-setup:b64:"

// KeychainEncode is the stored form of a secret's exact bytes.
func KeychainEncode(b []byte) string {
	return keychainEncodingPrefix + base64.StdEncoding.EncodeToString(b)
}

// KeychainDecode reverses KeychainEncode. A value without the prefix was not
// written by cdb-setup and is refused rather than guessed at.
func KeychainDecode(s string) ([]byte, error) {
	rest, ok := strings.CutPrefix(s, keychainEncodingPrefix)
	if !ok {
		return nil, errors.New("the keychain entry was not written by cdb-setup (no encoding prefix)")
	}
	// Strict: a non-canonical encoding (stray padding bits) is damage, not a
	// second spelling of the same bytes (found by FuzzKeychainDecode).
	// The decoder also skips CR and LF; we never write them, so they are damage too.
	if strings.ContainsAny(rest, "\r\n") {
		return nil, errors.New("the keychain entry is damaged: line breaks in its encoding")
	}
	b, err := base64.StdEncoding.Strict().DecodeString(rest)
	if err != nil {
		return nil, fmt.Errorf("the keychain entry is damaged: %w", err)
	}
	return b, nil
}

// KeychainLimit is the largest stored entry the backend of goos accepts for
// service and user, in bytes of the stored (encoded) string, and a name for
// the backend. Values over it are refused by go-keyring (ErrSetDataTooBig);
// checking first lets push report the secret and carry on with the rest.
func KeychainLimit(goos, service, user string) (limit int, backend string) {
	switch goos {
	case "windows":
		// CredWrite refuses a blob over CRED_MAX_CREDENTIAL_BLOB_SIZE/2.
		return 2560, "Windows Credential Manager"
	case "darwin":
		// go-keyring base64-encodes again and sends one command line of at
		// most 4096 bytes to `security -i`:
		//   add-generic-password -U -s 'svc' -a 'user' -w 'go-keyring-base64:<b64>'\n
		// Quotes are counted whether or not shellescape adds them.
		overhead := len("add-generic-password -U -s ''") + len(service) + len(" -a ''") + len(user) +
			len(" -w ''") + len("go-keyring-base64:") + len("\n")
		room := 4096 - overhead
		if room < 0 {
			room = 0
		}
		// base64 turns 3 bytes into 4 characters.
		return room / 4 * 3, "macOS Keychain"
	default:
		// The Secret Service has no hard limit, but go-keyring warns that
		// values over ~100 KiB make it slow; no real secret is that big.
		return 100 * 1024, "Secret Service"
	}
}

// keychainFits checks the encoded size of value against the backend limit.
func (k *Keychain) fits(service, name, dir string, value []byte) error {
	enc := len(KeychainEncode(value))
	limit, backend := KeychainLimit(k.goos(), service, name)
	if enc <= limit {
		return nil
	}
	return &KeychainError{Kind: KeychainTooBig, Op: "set", Name: name, Dir: dir,
		Detail: fmt.Sprintf("%d bytes (%d encoded), the %s keeps at most %d", len(value), enc, backend, limit)}
}

// KeychainService is the keychain service name of a stack's secrets folder:
// cdb-setup:<project>:<12 hex of sha256 of the absolute folder>. Two clones
// with different SECRETS_PATH get different services and never overwrite
// each other's entries; the same folder always maps to the same service.
func KeychainService(project, dir string) string {
	p := filepath.Clean(dir)
	if runtime.GOOS == "windows" {
		// Windows paths are case-insensitive: C:\Users\A and c:\users\a are
		// the same folder and must be the same service.
		p = strings.ToLower(p)
	}
	sum := sha256.Sum256([]byte(p))
	if project == "" {
		project = "cdb"
	}
	return "cdb-setup:" + project + ":" + hex.EncodeToString(sum[:])[:12]
}
