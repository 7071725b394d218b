// Package scram computes and checks PostgreSQL's SCRAM-SHA-256 password
// verifiers (RFC 5802, RFC 7677), so cdb-setup can change a role's password
// by sending a verifier instead of the password (the plain password then
// appears in no process list, SQL log or pg_stat_activity), and can tell
// whether a password matches a role without logging in.
package scram

import (
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Iterations is PostgreSQL's default (scram_iterations = 4096).
const Iterations = 4096

// saltLen is PostgreSQL's SCRAM_DEFAULT_SALT_LEN.
const saltLen = 16

// Keys are what a password turns into for one salt and iteration count.
type Keys struct {
	Salted, ClientKey, StoredKey, ServerKey []byte
}

// ErrNotASCII: PostgreSQL runs a non-ASCII password through SASLprep
// (Unicode normalisation) before hashing; cdb-setup does not implement it,
// so it refuses rather than compute a verifier the server would not match.
// Generated passwords are ASCII.
var ErrNotASCII = errors.New("the password has non-ASCII characters (PostgreSQL normalises those with SASLprep, which cdb-setup does not do)")

// Derive computes the keys of password for salt and iterations. PostgreSQL
// uses an ASCII password's bytes unchanged, so these are exactly the
// server's keys.
func Derive(password string, salt []byte, iterations int) (Keys, error) {
	for i := 0; i < len(password); i++ {
		if password[i] >= 0x80 {
			return Keys{}, ErrNotASCII
		}
	}
	if iterations < 1 || len(salt) == 0 {
		return Keys{}, errors.New("scram: empty salt or no iterations")
	}
	salted, err := pbkdf2.Key(sha256.New, password, salt, iterations, sha256.Size)
	if err != nil {
		return Keys{}, fmt.Errorf("scram: %w", err)
	}
	k := Keys{Salted: salted, ClientKey: mac(salted, "Client Key"), ServerKey: mac(salted, "Server Key")}
	sum := sha256.Sum256(k.ClientKey)
	k.StoredKey = sum[:]
	return k, nil
}

func mac(key []byte, msg string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(msg))
	return h.Sum(nil)
}

// Verifier is a parsed PostgreSQL verifier:
// SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>.
type Verifier struct {
	Iterations           int
	Salt                 []byte
	StoredKey, ServerKey []byte
}

// String formats v as pg_authid.rolpassword holds it.
func (v Verifier) String() string {
	b := base64.StdEncoding
	return fmt.Sprintf("SCRAM-SHA-256$%d:%s$%s:%s", v.Iterations, b.EncodeToString(v.Salt), b.EncodeToString(v.StoredKey), b.EncodeToString(v.ServerKey))
}

// NewVerifier computes a verifier for password with a fresh random salt.
func NewVerifier(password string) (Verifier, error) {
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return Verifier{}, fmt.Errorf("scram: random salt: %w", err)
	}
	return VerifierFor(password, salt, Iterations)
}

// VerifierFor computes the verifier of password for a given salt.
func VerifierFor(password string, salt []byte, iterations int) (Verifier, error) {
	k, err := Derive(password, salt, iterations)
	if err != nil {
		return Verifier{}, err
	}
	return Verifier{Iterations: iterations, Salt: salt, StoredKey: k.StoredKey, ServerKey: k.ServerKey}, nil
}

// ErrNotSCRAM: the role's password is not a SCRAM-SHA-256 verifier (an md5
// hash, or no password at all).
var ErrNotSCRAM = errors.New("not a SCRAM-SHA-256 verifier")

// Parse reads a verifier as pg_authid.rolpassword holds it. Errors never
// quote the input (it is a secret's hash).
func Parse(s string) (Verifier, error) {
	rest, ok := strings.CutPrefix(strings.TrimSpace(s), "SCRAM-SHA-256$")
	if !ok {
		return Verifier{}, ErrNotSCRAM
	}
	iterSalt, keys, ok := strings.Cut(rest, "$")
	if !ok {
		return Verifier{}, fmt.Errorf("%w: no keys part", ErrNotSCRAM)
	}
	iter, salt64, ok1 := strings.Cut(iterSalt, ":")
	stored64, server64, ok2 := strings.Cut(keys, ":")
	if !ok1 || !ok2 {
		return Verifier{}, fmt.Errorf("%w: malformed", ErrNotSCRAM)
	}
	var v Verifier
	var err error
	if v.Iterations, err = strconv.Atoi(iter); err != nil || v.Iterations < 1 {
		return Verifier{}, fmt.Errorf("%w: bad iteration count", ErrNotSCRAM)
	}
	b := base64.StdEncoding
	if v.Salt, err = b.DecodeString(salt64); err != nil || len(v.Salt) == 0 {
		return Verifier{}, fmt.Errorf("%w: bad salt", ErrNotSCRAM)
	}
	if v.StoredKey, err = b.DecodeString(stored64); err != nil || len(v.StoredKey) != sha256.Size {
		return Verifier{}, fmt.Errorf("%w: bad stored key", ErrNotSCRAM)
	}
	if v.ServerKey, err = b.DecodeString(server64); err != nil || len(v.ServerKey) != sha256.Size {
		return Verifier{}, fmt.Errorf("%w: bad server key", ErrNotSCRAM)
	}
	return v, nil
}

// Matches reports whether password is the one v was made from: it derives
// the keys with v's salt and iterations and compares both keys in constant
// time, as the server does when the client proves it knows the password.
func (v Verifier) Matches(password string) (bool, error) {
	k, err := Derive(password, v.Salt, v.Iterations)
	if err != nil {
		return false, err
	}
	return subtle.ConstantTimeCompare(k.StoredKey, v.StoredKey) == 1 &&
		subtle.ConstantTimeCompare(k.ServerKey, v.ServerKey) == 1, nil
}

// ClientProof is the proof a client sends for authMessage (RFC 5802 §3):
// ClientKey XOR HMAC(StoredKey, AuthMessage).
func ClientProof(k Keys, authMessage string) []byte {
	sig := mac(k.StoredKey, authMessage)
	p := make([]byte, len(sig))
	for i := range sig {
		p[i] = k.ClientKey[i] ^ sig[i]
	}
	return p
}

// ServerSignature is what the server answers: HMAC(ServerKey, AuthMessage).
func ServerSignature(serverKey []byte, authMessage string) []byte {
	return mac(serverKey, authMessage)
}

// CheckProof is the server's side: does proof show knowledge of the
// password behind v for authMessage? H(proof XOR HMAC(StoredKey, msg)) must
// equal StoredKey.
func (v Verifier) CheckProof(proof []byte, authMessage string) bool {
	sig := mac(v.StoredKey, authMessage)
	if len(proof) != len(sig) {
		return false
	}
	ck := make([]byte, len(sig))
	for i := range sig {
		ck[i] = proof[i] ^ sig[i]
	}
	sum := sha256.Sum256(ck)
	return subtle.ConstantTimeCompare(sum[:], v.StoredKey) == 1
}
