package team

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	"filippo.io/age"
	"filippo.io/age/armor"
)

// maxSealedBytes bounds the sealed file read into memory.
const maxSealedBytes = 8 << 20

// Seal encrypts b to every recipient as one ASCII-armored age file.
func Seal(b Bundle, rs []Recipient) ([]byte, error) {
	if len(rs) == 0 {
		return nil, errors.New("the recipients file lists nobody: add a key first (`cdb-setup team add ~/.ssh/id_ed25519.pub`)")
	}
	plain, err := MarshalBundle(b)
	if err != nil {
		return nil, err
	}
	var ars []age.Recipient
	for _, r := range rs {
		ar, err := r.ageRecipient()
		if err != nil {
			return nil, fmt.Errorf("recipient %s: %v", r.Name, err)
		}
		ars = append(ars, ar)
	}
	var out bytes.Buffer
	aw := armor.NewWriter(&out)
	w, err := age.Encrypt(aw, ars...)
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(plain); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	if err := aw.Close(); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// Header is what the sealed file says about itself without a key: age
// writes one stanza per recipient; an SSH stanza carries a 4-byte key ID,
// an X25519 one nothing that names its key.
type Header struct {
	// SSHTags are the key IDs of the SSH recipients.
	SSHTags []string
	// Anonymous counts the recipients that are not SSH keys (age keys).
	Anonymous int
}

// SealedFor returns whom the recipients are, as far as the header tells.
func (h Header) SealedFor(rs []Recipient) (known []Recipient, unknownSSH int) {
	for _, tag := range h.SSHTags {
		found := false
		for _, r := range rs {
			if r.tag == tag {
				known = append(known, r)
				found = true
				break
			}
		}
		if !found {
			unknownSSH++
		}
	}
	return known, unknownSSH
}

// ReadHeader reads the header of a sealed file.
func ReadHeader(sealed []byte) (Header, error) {
	plain, err := dearmor(sealed)
	if err != nil {
		return Header{}, err
	}
	var h Header
	sc := bufio.NewScanner(bytes.NewReader(plain))
	sc.Buffer(make([]byte, 64<<10), 64<<10)
	first := true
	for sc.Scan() {
		line := sc.Text()
		if first {
			if line != "age-encryption.org/v1" {
				return Header{}, &SealedError{Kind: Damaged, Detail: "it is not an age file (no age-encryption.org/v1 header)"}
			}
			first = false
			continue
		}
		if strings.HasPrefix(line, "--- ") {
			return h, nil
		}
		if !strings.HasPrefix(line, "-> ") {
			continue
		}
		f := strings.Fields(line[3:])
		switch {
		case len(f) >= 2 && (f[0] == TypeEd25519 || f[0] == TypeRSA):
			h.SSHTags = append(h.SSHTags, f[1])
		case len(f) >= 1:
			h.Anonymous++
		}
	}
	return Header{}, &SealedError{Kind: Truncated, Detail: "the header ends before its MAC line"}
}

// dearmor undoes the ASCII armor, classifying what can go wrong.
func dearmor(sealed []byte) ([]byte, error) {
	if len(sealed) > maxSealedBytes {
		return nil, &SealedError{Kind: Damaged, Detail: fmt.Sprintf("it is %d bytes, more than a sealed secrets file can be", len(sealed))}
	}
	t := bytes.TrimSpace(sealed)
	if !bytes.HasPrefix(t, []byte(armor.Header)) {
		return nil, &SealedError{Kind: Damaged, Detail: "it does not start with " + armor.Header}
	}
	if !bytes.HasSuffix(t, []byte(armor.Footer)) {
		return nil, &SealedError{Kind: Truncated, Detail: "it does not end with " + armor.Footer}
	}
	plain, err := io.ReadAll(armor.NewReader(bytes.NewReader(sealed)))
	if err != nil {
		return nil, &SealedError{Kind: Damaged, Detail: "its armor is invalid (" + err.Error() + ")"}
	}
	return plain, nil
}

// Kinds of SealedError.
const (
	Damaged   = "damaged"     // not an armored age file
	Truncated = "truncated"   // cut short (a partial download, a bad merge)
	Tampered  = "tampered"    // authentication failed: changed after sealing
	NotForYou = "not-for-you" // sealed for other keys only
	BadKey    = "wrong-passphrase"
)

// SealedError is a sealed file that cannot be opened, and why.
type SealedError struct {
	Kind   string
	Detail string
	// For is set with NotForYou: the recipients the header names.
	For []Recipient
	// Others counts recipients the header has that the file does not list.
	Others int
}

func (e *SealedError) Error() string {
	switch e.Kind {
	case Tampered:
		return "the sealed file failed authentication: it was changed after it was sealed, or damaged (" + e.Detail + ")"
	case Truncated:
		return "the sealed file is truncated: " + e.Detail
	case NotForYou:
		return "the sealed file is not sealed for your key" + e.Detail
	case BadKey:
		return e.Detail
	}
	return "the sealed file cannot be read: " + e.Detail
}

// Open decrypts a sealed file with the given identities and reads the
// bundle. It only returns a bundle when the whole file authenticated: age
// checks every chunk, and the caller writes nothing before Open returns.
func Open(sealed []byte, ids []*Identity, ask Passphrase) (Bundle, error) {
	h, err := ReadHeader(sealed)
	if err != nil {
		return nil, err
	}
	var ais []age.Identity
	for _, id := range ids {
		ai, err := id.ageIdentities(h, ask)
		if err != nil {
			return nil, err
		}
		ais = append(ais, ai...)
	}
	if len(ais) == 0 {
		return nil, &SealedError{Kind: NotForYou}
	}
	r, err := age.Decrypt(armor.NewReader(bytes.NewReader(sealed)), ais...)
	if err != nil {
		var nm *age.NoIdentityMatchError
		if errors.As(err, &nm) {
			// age cannot tell "not for this key" from "the stanza for this
			// key was changed": the header names SSH keys, so it can.
			for _, id := range ids {
				for _, p := range id.Public {
					for _, tag := range h.SSHTags {
						if p.tag != "" && p.tag == tag {
							return nil, &SealedError{Kind: Tampered, Detail: "the header has a stanza for " + id.Source + ", and it does not open with that key"}
						}
					}
				}
			}
			return nil, &SealedError{Kind: NotForYou}
		}
		return nil, classify(err)
	}
	plain, err := io.ReadAll(io.LimitReader(r, maxBundleBytes+1))
	if err != nil {
		return nil, classify(err)
	}
	b, err := UnmarshalBundle(plain)
	if err != nil {
		return nil, &SealedError{Kind: Damaged, Detail: err.Error()}
	}
	return b, nil
}

// classify turns age's errors into the user's words.
func classify(err error) error {
	msg := err.Error()
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF), strings.Contains(msg, "unexpected EOF"), strings.Contains(msg, "last chunk is empty"), strings.Contains(msg, "missing final"):
		return &SealedError{Kind: Truncated, Detail: msg}
	case strings.Contains(msg, "MAC"), strings.Contains(msg, "authenticat"), strings.Contains(msg, "tampered"), strings.Contains(msg, "decryption"):
		return &SealedError{Kind: Tampered, Detail: msg}
	}
	return &SealedError{Kind: Damaged, Detail: msg}
}
