// Package team keeps the team's shared secrets in the repository, encrypted
// with age (filippo.io/age) to the public keys the developers already have:
// SSH keys (ssh-ed25519, ssh-rsa) and native age keys (age1...). The
// recipients file lists those keys with a name each; the sealed file is one
// ASCII-armored age file that the `age` CLI opens too (docs/team.md).
package team

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strings"
	"unicode/utf8"

	"filippo.io/age"
	"filippo.io/age/agessh"
	"golang.org/x/crypto/ssh"

	"github.com/claire-de-binare/cdb-setup/internal/step"
)

// Key types a recipient can have.
const (
	TypeEd25519 = "ssh-ed25519"
	TypeRSA     = "ssh-rsa"
	TypeAge     = "age" // a native X25519 key, age1...
)

// Recipient is one person (or CI) the sealed file is encrypted to.
type Recipient struct {
	// Type is TypeEd25519, TypeRSA or TypeAge.
	Type string `json:"type"`
	// Key is the public key as written in the file: "ssh-ed25519 AAAA..."
	// (type and base64, without the comment) or "age1...".
	Key string `json:"key"`
	// Name says whose key it is (the .pub file's comment, or given).
	Name string `json:"name"`
	// Fingerprint is what people compare by eye: SHA256:... for SSH keys
	// (as `ssh-keygen -l` prints it), the key itself for age keys.
	Fingerprint string `json:"fingerprint"`
	// tag is the 4-byte key ID age writes into an SSH recipient's stanza,
	// so the sealed file's header says which SSH keys it is sealed for.
	tag string
}

// fileHeader starts a new recipients file.
const fileHeader = `# Who can open the team's sealed secrets (cdb-setup team, docs/team.md).
# One public key per line, then whose it is. Public keys only: this file is
# committed. Add yours with: cdb-setup team add ~/.ssh/id_ed25519.pub
`

// maxRecipientsFile bounds what is read: a team is not megabytes of keys.
const maxRecipientsFile = 1 << 20

// ParseRecipients reads a recipients file: blank lines and lines starting
// with '#' are ignored; every other line is a public key (ssh-ed25519 or
// ssh-rsa as in a .pub file, or age1...) followed by a name. An error names
// the line and says how to fix it; nothing is guessed.
func ParseRecipients(b []byte) ([]Recipient, error) {
	if len(b) > maxRecipientsFile {
		return nil, fmt.Errorf("the recipients file is %d bytes: too large for a list of public keys", len(b))
	}
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
	if !utf8.Valid(b) {
		return nil, step.WithFix(fmt.Errorf("the recipients file is not UTF-8 text"), "save it as UTF-8 (one public key per line)")
	}
	var out []Recipient
	seen := map[string]int{}
	for i, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(strings.TrimSuffix(line, "\r"))
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		r, err := ParseRecipientLine(line)
		if err != nil {
			return nil, step.WithFix(fmt.Errorf("recipients file line %d: %w", i+1, err),
				"correct that line or delete it; a line is a public key (the whole line of a .pub file, or age1...) then a name")
		}
		if prev, dup := seen[r.Key]; dup {
			return nil, step.WithFix(fmt.Errorf("recipients file line %d: the key of %q is already on line %d", i+1, r.Name, prev),
				"delete one of the two lines")
		}
		seen[r.Key] = i + 1
		out = append(out, r)
	}
	return out, nil
}

// ParseRecipientLine reads one public key with its name: a .pub line
// ("ssh-ed25519 AAAA... alice@laptop") or "age1... bob".
func ParseRecipientLine(line string) (Recipient, error) {
	line = strings.TrimSpace(line)
	fields := strings.Fields(line)
	if len(fields) == 0 {
		return Recipient{}, fmt.Errorf("empty line")
	}
	switch {
	case strings.HasPrefix(fields[0], "age1pq"):
		return Recipient{}, fmt.Errorf("%s is a post-quantum age key; it cannot be mixed with SSH keys in one file (age refuses), so cdb-setup takes ssh-ed25519, ssh-rsa and age1 (X25519) keys", short(fields[0]))
	case strings.HasPrefix(fields[0], "age1"):
		if _, err := age.ParseX25519Recipient(fields[0]); err != nil {
			return Recipient{}, fmt.Errorf("%s is not a valid age public key: %v", short(fields[0]), err)
		}
		r := Recipient{Type: TypeAge, Key: fields[0], Name: strings.Join(fields[1:], " "), Fingerprint: fields[0]}
		if r.Name == "" {
			return Recipient{}, fmt.Errorf("the age key %s has no name after it: write whose key it is (e.g. %s ci)", short(r.Key), short(r.Key))
		}
		return r, nil
	case fields[0] == TypeEd25519 || fields[0] == TypeRSA:
		pk, comment, _, rest, err := ssh.ParseAuthorizedKey([]byte(line))
		if err != nil {
			return Recipient{}, fmt.Errorf("%q is not a valid %s public key: %v", short(line), fields[0], err)
		}
		if len(bytes.TrimSpace(rest)) > 0 {
			return Recipient{}, fmt.Errorf("one key per line, please: there is more after the %s key", fields[0])
		}
		if _, err := agessh.ParseRecipient(string(ssh.MarshalAuthorizedKey(pk))); err != nil {
			return Recipient{}, fmt.Errorf("%s key: %v", fields[0], err)
		}
		r := Recipient{Type: pk.Type(), Key: strings.TrimSpace(string(ssh.MarshalAuthorizedKey(pk))), Name: strings.Join(strings.Fields(comment), " "),
			Fingerprint: ssh.FingerprintSHA256(pk), tag: sshTag(pk)}
		if r.Name == "" {
			return Recipient{}, fmt.Errorf("the %s key %s has no name after it: write whose key it is (e.g. ... alice@laptop)", r.Type, r.Fingerprint)
		}
		return r, nil
	case strings.HasPrefix(fields[0], "ssh-") || strings.HasPrefix(fields[0], "ecdsa-") || strings.HasPrefix(fields[0], "sk-"):
		return Recipient{}, fmt.Errorf("%s keys cannot be age recipients (age takes ssh-ed25519 and ssh-rsa); use an ed25519 key (ssh-keygen -t ed25519) or an age key (age-keygen)", fields[0])
	case strings.HasPrefix(fields[0], "AGE-SECRET-KEY-") || strings.HasPrefix(fields[0], "-----BEGIN"):
		// Never echo it: it is a private key.
		return Recipient{}, fmt.Errorf("this is a PRIVATE key, which must never be listed or committed: only public keys are (the .pub file next to an SSH key; `age-keygen -y FILE` for an age key)")
	}
	// Not echoed: a line we cannot place may be a pasted private key (a
	// PEM body line) or a token.
	return Recipient{}, fmt.Errorf("this is not a public key (want a line of a .pub file starting with ssh-ed25519 or ssh-rsa, or an age1... key)")
}

// short keeps long keys readable in messages.
func short(s string) string {
	if len(s) > 40 {
		return s[:37] + "..."
	}
	return s
}

// sshTag is age's stanza key ID of an SSH key: the first 4 bytes of the
// SHA-256 of the wire-format key, unpadded base64 (agessh).
func sshTag(pk ssh.PublicKey) string {
	h := sha256.Sum256(pk.Marshal())
	return base64.RawStdEncoding.EncodeToString(h[:4])
}

// Line is the recipient as a line of the recipients file.
func (r Recipient) Line() string { return r.Key + " " + r.Name }

// ageRecipient is the key as age encrypts to it.
func (r Recipient) ageRecipient() (age.Recipient, error) {
	if r.Type == TypeAge {
		return age.ParseX25519Recipient(r.Key)
	}
	return agessh.ParseRecipient(r.Key)
}

// FormatRecipients renders a recipients file: the header, then each
// recipient on its line. ParseRecipients(FormatRecipients(rs)) == rs.
func FormatRecipients(rs []Recipient) []byte {
	var b strings.Builder
	b.WriteString(fileHeader)
	for _, r := range rs {
		b.WriteString(r.Line())
		b.WriteString("\n")
	}
	return []byte(b.String())
}

// AddRecipient appends r to the file's text, keeping every other line
// (comments included) as it is. It refuses a key that is already listed.
func AddRecipient(file []byte, r Recipient) ([]byte, error) {
	rs, err := ParseRecipients(file)
	if err != nil {
		return nil, err
	}
	for _, o := range rs {
		if o.Key == r.Key {
			return nil, ErrAlreadyListed{Name: o.Name}
		}
	}
	if len(bytes.TrimSpace(file)) == 0 {
		file = []byte(fileHeader)
	}
	out := append([]byte(nil), file...)
	if len(out) > 0 && out[len(out)-1] != '\n' {
		out = append(out, '\n')
	}
	return append(out, r.Line()+"\n"...), nil
}

// ErrAlreadyListed: the key is in the file already (under Name).
type ErrAlreadyListed struct{ Name string }

func (e ErrAlreadyListed) Error() string {
	return "this key is already a recipient (as " + e.Name + ")"
}

// RemoveRecipients drops every line whose key, name or fingerprint is who,
// keeping the other lines as they are. It returns the removed recipients;
// none is an error naming who is listed.
func RemoveRecipients(file []byte, who string) ([]byte, []Recipient, error) {
	rs, err := ParseRecipients(file)
	if err != nil {
		return nil, nil, err
	}
	who = strings.TrimSpace(who)
	match := func(r Recipient) bool {
		return who != "" && (r.Name == who || r.Key == who || r.Fingerprint == who || strings.TrimPrefix(r.Fingerprint, "SHA256:") == who)
	}
	var removed []Recipient
	var keep []string
	for _, line := range strings.SplitAfter(string(file), "\n") {
		t := strings.TrimSpace(strings.TrimSuffix(line, "\n"))
		if t != "" && !strings.HasPrefix(t, "#") {
			if r, err := ParseRecipientLine(t); err == nil && match(r) {
				removed = append(removed, r)
				continue
			}
		}
		keep = append(keep, line)
	}
	if len(removed) == 0 {
		var names []string
		for _, r := range rs {
			names = append(names, r.Name)
		}
		return nil, nil, step.WithFix(fmt.Errorf("no recipient is named %q (the recipients are: %s)", who, strings.Join(names, ", ")),
			"give the name exactly as `cdb-setup team status` lists it, or the key's SHA256 fingerprint")
	}
	return []byte(strings.Join(keep, "")), removed, nil
}
