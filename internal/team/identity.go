package team

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"filippo.io/age"
	"filippo.io/age/agessh"
	"golang.org/x/crypto/ssh"

	"github.com/claire-de-binare/cdb-setup/internal/platform"
	"github.com/claire-de-binare/cdb-setup/internal/step"
)

// IdentityEnv is the CI variable holding an age identity (the content of
// an age-keygen file, or an unencrypted SSH private key).
const IdentityEnv = "CDB_AGE_IDENTITY"

// Passphrase asks for the passphrase of the SSH key at source (masked).
type Passphrase func(source string) ([]byte, error)

// ErrNoTerminal is what a Passphrase returns when it cannot ask.
var ErrNoTerminal = errors.New("no terminal to ask on")

// Identity is a private key that may open the sealed file.
type Identity struct {
	// Source is where it came from: a path, or CDB_AGE_IDENTITY.
	Source string
	// Public are the recipients it opens (its public keys), for "is my key
	// listed?" without decrypting anything.
	Public []Recipient
	ids    []age.Identity
	// An SSH key behind a passphrase: decrypted only when the sealed file
	// has a stanza for it, so nobody is asked for nothing.
	pem    []byte
	sshPub ssh.PublicKey
}

// Encrypted is true for an SSH key behind a passphrase.
func (i *Identity) Encrypted() bool { return i.pem != nil }

// maxIdentityBytes bounds an identity file.
const maxIdentityBytes = 1 << 20

// LoadIdentityFile reads an identity file: an age identity file
// (AGE-SECRET-KEY-1...) or an SSH private key (ed25519 or RSA).
func LoadIdentityFile(path string) (*Identity, error) {
	b, err := platform.ReadFileCapped(path, maxIdentityBytes)
	if err != nil {
		return nil, fmt.Errorf("read the identity %s: %w", path, err)
	}
	return ParseIdentity(path, b)
}

// ParseIdentity reads identity data from source (a path or IdentityEnv).
// The error never holds the data.
func ParseIdentity(source string, b []byte) (*Identity, error) {
	t := bytes.TrimSpace(b)
	id := &Identity{Source: source}
	if bytes.HasPrefix(t, []byte("-----BEGIN")) {
		k, err := ssh.ParseRawPrivateKey(t)
		var pm *ssh.PassphraseMissingError
		if errors.As(err, &pm) {
			pub := pm.PublicKey
			if pub == nil {
				// Old PEM-encrypted RSA keys do not carry their public
				// half: the .pub next to them does.
				pub = readPub(source + ".pub")
			}
			if pub == nil {
				return nil, step.WithFix(fmt.Errorf("%s is protected by a passphrase and its public key is unknown", source),
					fmt.Sprintf("put its public key next to it (ssh-keygen -y -f %s > %s.pub)", source, source))
			}
			r, err := recipientOfSSH(pub, source)
			if err != nil {
				return nil, err
			}
			id.pem, id.sshPub, id.Public = t, pub, []Recipient{r}
			return id, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s is not a usable SSH private key (%v)", source, errText(err))
		}
		return id, id.addSSH(k)
	}
	if bytes.Contains(t, []byte("AGE-SECRET-KEY-")) {
		// Line by line with ParseX25519Identity rather than
		// age.ParseIdentities, which would link post-quantum keys in too.
		for n, line := range strings.Split(string(t), "\n") {
			line = strings.TrimSpace(line)
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			if strings.HasPrefix(line, "AGE-SECRET-KEY-PQ-") {
				return nil, fmt.Errorf("%s line %d holds a post-quantum age key; cdb-setup seals to X25519 and SSH keys (age-keygen without -pq makes one)", source, n+1)
			}
			x, err := age.ParseX25519Identity(line)
			if err != nil {
				// age's error quotes nothing of the key; still, say only where.
				return nil, fmt.Errorf("%s line %d is not a valid age identity", source, n+1)
			}
			r, err := ParseRecipientLine(x.Recipient().String() + " " + source)
			if err != nil {
				return nil, err
			}
			id.ids = append(id.ids, x)
			id.Public = append(id.Public, r)
		}
		return id, nil
	}
	return nil, step.WithFix(fmt.Errorf("%s is neither an age identity (AGE-SECRET-KEY-1...) nor an SSH private key", source),
		"pass the private key file: an age-keygen file, ~/.ssh/id_ed25519 or ~/.ssh/id_rsa")
}

// errText keeps library errors from quoting key material.
func errText(err error) string {
	s := err.Error()
	if len(s) > 120 {
		s = s[:120] + "..."
	}
	return s
}

func readPub(path string) ssh.PublicKey {
	b, err := platform.ReadFileCapped(path, 64<<10)
	if err != nil {
		return nil
	}
	pk, _, _, _, err := ssh.ParseAuthorizedKey(b)
	if err != nil {
		return nil
	}
	return pk
}

func recipientOfSSH(pk ssh.PublicKey, source string) (Recipient, error) {
	name := filepath.Base(source)
	return ParseRecipientLine(strings.TrimSpace(string(ssh.MarshalAuthorizedKey(pk))) + " " + name)
}

// addSSH makes an unencrypted SSH private key an identity.
func (i *Identity) addSSH(k any) error {
	var ai age.Identity
	var pub ssh.PublicKey
	var err error
	switch k := k.(type) {
	case *ed25519.PrivateKey:
		ai, err = agessh.NewEd25519Identity(*k)
		if err == nil {
			pub, err = ssh.NewPublicKey(k.Public())
		}
	case ed25519.PrivateKey:
		ai, err = agessh.NewEd25519Identity(k)
		if err == nil {
			pub, err = ssh.NewPublicKey(k.Public())
		}
	case *rsa.PrivateKey:
		ai, err = agessh.NewRSAIdentity(k)
		if err == nil {
			pub, err = ssh.NewPublicKey(&k.PublicKey)
		}
	default:
		return fmt.Errorf("%s is a %T key; age opens files with ed25519 and RSA SSH keys only", i.Source, k)
	}
	if err != nil {
		return fmt.Errorf("%s: %v", i.Source, err)
	}
	r, err := recipientOfSSH(pub, i.Source)
	if err != nil {
		return err
	}
	i.ids, i.Public = []age.Identity{ai}, []Recipient{r}
	return nil
}

// ageIdentities are the age identities to try on a file with header h. An
// encrypted SSH key is asked for only when h has a stanza for it.
func (i *Identity) ageIdentities(h Header, ask Passphrase) ([]age.Identity, error) {
	if i.pem == nil {
		return i.ids, nil
	}
	tag := sshTag(i.sshPub)
	needed := false
	for _, t := range h.SSHTags {
		if t == tag {
			needed = true
		}
	}
	if !needed {
		return nil, nil
	}
	if ask == nil {
		return nil, passphraseNeeded(i.Source)
	}
	pass, err := ask(i.Source)
	if errors.Is(err, ErrNoTerminal) {
		return nil, passphraseNeeded(i.Source)
	}
	if err != nil {
		return nil, err
	}
	k, err := ssh.ParseRawPrivateKeyWithPassphrase(i.pem, pass)
	for j := range pass {
		pass[j] = 0
	}
	if errors.Is(err, x509.IncorrectPasswordError) {
		return nil, &SealedError{Kind: BadKey, Detail: "wrong passphrase for " + i.Source + ": nothing was written"}
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %s", i.Source, errText(err))
	}
	dec := &Identity{Source: i.Source}
	if err := dec.addSSH(k); err != nil {
		return nil, err
	}
	return dec.ids, nil
}

// passphraseNeeded is the error for a protected key with nobody to ask.
func passphraseNeeded(source string) error {
	return step.WithFix(fmt.Errorf("%s is protected by a passphrase and there is no terminal to ask for it; ssh-agent cannot be used: age needs the private key itself, which an agent never hands out", source),
		"run the command in a terminal, or pass --identity with a key that has no passphrase (in CI: an age identity in "+IdentityEnv+")")
}

// DefaultIdentityPaths are the SSH keys tried when none is given, in order.
func DefaultIdentityPaths(home string) []string {
	return []string{filepath.Join(home, ".ssh", "id_ed25519"), filepath.Join(home, ".ssh", "id_rsa")}
}

// FindIdentities loads the identities to open with: the file given, else
// IdentityEnv, else every default SSH key that exists. A default key that
// cannot be read is skipped (it may be a key age cannot use); a given one
// is an error.
func FindIdentities(given string, env platform.Environment, home string) ([]*Identity, error) {
	if given != "" {
		id, err := LoadIdentityFile(given)
		if err != nil {
			return nil, err
		}
		return []*Identity{id}, nil
	}
	if v := env.Getenv(IdentityEnv); strings.TrimSpace(v) != "" {
		id, err := ParseIdentity(IdentityEnv, []byte(v))
		if err != nil {
			return nil, err
		}
		return []*Identity{id}, nil
	}
	var out []*Identity
	for _, p := range DefaultIdentityPaths(home) {
		if _, err := os.Stat(p); err != nil {
			continue
		}
		if id, err := LoadIdentityFile(p); err == nil {
			out = append(out, id)
		}
	}
	return out, nil
}

// Listed returns the first identity whose public key is a recipient, and
// that recipient.
func Listed(ids []*Identity, rs []Recipient) (*Identity, Recipient, bool) {
	for _, id := range ids {
		for _, p := range id.Public {
			for _, r := range rs {
				if r.Key == p.Key {
					return id, r, true
				}
			}
		}
	}
	return nil, Recipient{}, false
}
