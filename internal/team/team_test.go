package team

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"filippo.io/age/armor"

	"github.com/claire-de-binare/cdb-setup/internal/testenv"
)

// person is a developer with a real key made by ssh-keygen.
type person struct {
	key, pub string
	r        Recipient
}

func newPerson(t *testing.T, name, typ, passphrase string) person {
	t.Helper()
	dir := filepath.Join(testenv.TempDir(t), name)
	key := testenv.SSHKey(t, dir, "id_"+typ, typ, passphrase, name)
	pub, err := os.ReadFile(key + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	r, err := ParseRecipientLine(string(pub))
	if err != nil {
		t.Fatalf("%s's key: %v", name, err)
	}
	return person{key: key, pub: string(pub), r: r}
}

func (p person) identity(t *testing.T) *Identity {
	t.Helper()
	id, err := LoadIdentityFile(p.key)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

var sample = Bundle{
	"MEXC_API_KEY.txt":    []byte("mx0vglTestKey0123456789"),
	"MEXC_API_SECRET.txt": []byte("a9f0-secret with spaces and ünïcode"),
	"SMTP_PASSWORD":       []byte("app password"),
}

func sameBundle(t *testing.T, got, want Bundle) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d secrets, want %d (%v)", len(got), len(want), got.Names())
	}
	for n, v := range want {
		if !bytes.Equal(got[n], v) {
			t.Errorf("%s differs after the round trip (%d vs %d bytes)", n, len(got[n]), len(v))
		}
	}
}

func TestSealOpenEd25519AndRSA(t *testing.T) {
	alice := newPerson(t, "alice", "ed25519", "")
	bob := newPerson(t, "bob", "rsa", "")
	carol := newPerson(t, "carol", "ed25519", "")
	sealed, err := Seal(sample, []Recipient{alice.r, bob.r})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(sealed, []byte(armor.Header)) {
		t.Fatalf("the sealed file is not armored")
	}
	for _, p := range []person{alice, bob} {
		b, err := Open(sealed, []*Identity{p.identity(t)}, nil)
		if err != nil {
			t.Fatalf("%s cannot open: %v", p.r.Name, err)
		}
		sameBundle(t, b, sample)
	}
	_, err = Open(sealed, []*Identity{carol.identity(t)}, nil)
	var se *SealedError
	if !errors.As(err, &se) || se.Kind != NotForYou {
		t.Fatalf("carol: want not-for-you, got %v", err)
	}
	h, err := ReadHeader(sealed)
	if err != nil {
		t.Fatal(err)
	}
	known, unknown := h.SealedFor([]Recipient{alice.r, bob.r, carol.r})
	if len(known) != 2 || known[0].Name != "alice" || known[1].Name != "bob" || unknown != 0 {
		t.Fatalf("header names %v (+%d unknown), want alice and bob", known, unknown)
	}
}

func TestPassphraseProtectedKey(t *testing.T) {
	dave := newPerson(t, "dave", "ed25519", "correct horse")
	sealed, err := Seal(sample, []Recipient{dave.r})
	if err != nil {
		t.Fatal(err)
	}
	id := dave.identity(t)
	if !id.Encrypted() {
		t.Fatal("a key made with -N is not seen as protected")
	}
	asked := 0
	ask := func(pass string) Passphrase {
		return func(string) ([]byte, error) { asked++; return []byte(pass), nil }
	}
	b, err := Open(sealed, []*Identity{id}, ask("correct horse"))
	if err != nil {
		t.Fatalf("right passphrase: %v", err)
	}
	sameBundle(t, b, sample)
	_, err = Open(sealed, []*Identity{id}, ask("wrong"))
	var se *SealedError
	if !errors.As(err, &se) || se.Kind != BadKey || !strings.Contains(err.Error(), "nothing was written") {
		t.Fatalf("wrong passphrase: %v", err)
	}
	_, err = Open(sealed, []*Identity{id}, func(string) ([]byte, error) { return nil, ErrNoTerminal })
	if err == nil || !strings.Contains(err.Error(), "ssh-agent cannot be used") || !strings.Contains(err.Error(), "no terminal") {
		t.Fatalf("no terminal: %v", err)
	}
	// A file not sealed for dave never asks for his passphrase.
	other := newPerson(t, "erin", "ed25519", "")
	sealed2, _ := Seal(sample, []Recipient{other.r})
	asked = 0
	if _, err := Open(sealed2, []*Identity{id}, ask("correct horse")); !errors.As(err, &se) || se.Kind != NotForYou {
		t.Fatalf("not for dave: %v", err)
	}
	if asked != 0 {
		t.Fatal("asked for a passphrase of a key the file is not sealed for")
	}
}

// payload flips one byte of the encrypted body (after the header) and
// re-armors it: what a bad merge or a malicious edit does.
func tamper(t *testing.T, sealed []byte, fromEnd int) []byte {
	t.Helper()
	var raw bytes.Buffer
	if _, err := raw.ReadFrom(armor.NewReader(bytes.NewReader(sealed))); err != nil {
		t.Fatal(err)
	}
	b := raw.Bytes()
	b[len(b)-fromEnd] ^= 0x01
	var out bytes.Buffer
	w := armor.NewWriter(&out)
	w.Write(b)
	w.Close()
	return out.Bytes()
}

func TestBadSealedFiles(t *testing.T) {
	alice := newPerson(t, "alice", "ed25519", "")
	sealed, err := Seal(sample, []Recipient{alice.r})
	if err != nil {
		t.Fatal(err)
	}
	id := alice.identity(t)
	lines := strings.Split(string(sealed), "\n")
	cases := []struct {
		name string
		data []byte
		kind string
	}{
		{"tampered body", tamper(t, sealed, 5), Tampered},
		{"unchanged", sealed, ""}, // the control: the untouched file opens
		{"truncated", []byte(strings.Join(lines[:len(lines)/2], "\n")), Truncated},
		{"cut at the end", sealed[:len(sealed)-40], Truncated},
		{"not age", []byte("hello\n"), Damaged},
		{"armor broken", bytes.Replace(sealed, []byte(lines[2][:8]), []byte("!!!!!!!!"), 1), Damaged},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b, err := Open(c.data, []*Identity{id}, nil)
			if c.kind == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var se *SealedError
			if !errors.As(err, &se) || se.Kind != c.kind {
				t.Fatalf("want %s, got %v", c.kind, err)
			}
			if b != nil {
				t.Fatal("a bundle came back with the error")
			}
		})
	}
	// A base64 body that decodes but whose MAC fails (header stanza changed).
	hdr := tamperHeader(t, sealed)
	var se *SealedError
	if _, err := Open(hdr, []*Identity{id}, nil); !errors.As(err, &se) || se.Kind != Tampered {
		t.Fatalf("changed header stanza: want tampered, got %v", err)
	}
}

func tamperHeader(t *testing.T, sealed []byte) []byte {
	var raw bytes.Buffer
	raw.ReadFrom(armor.NewReader(bytes.NewReader(sealed)))
	b := raw.Bytes()
	i := bytes.Index(b, []byte("\n--- "))
	// Flip the last character of the stanza body line before the MAC.
	if b[i-1] == 'A' {
		b[i-1] = 'B'
	} else {
		b[i-1] = 'A'
	}
	var out bytes.Buffer
	w := armor.NewWriter(&out)
	w.Write(b)
	w.Close()
	return out.Bytes()
}

func TestRecipientsFile(t *testing.T) {
	alice := newPerson(t, "alice", "ed25519", "")
	bob := newPerson(t, "bob", "rsa", "")
	ageKey := testenv.AgeKey(t, filepath.Join(testenv.TempDir(t), "ci.txt"))
	file := FormatRecipients(nil)
	var err error
	for _, line := range []string{alice.pub, bob.pub, ageKey + " ci"} {
		r, err := ParseRecipientLine(line)
		if err != nil {
			t.Fatal(err)
		}
		if file, err = AddRecipient(file, r); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := AddRecipient(file, alice.r); !errors.As(err, new(ErrAlreadyListed)) {
		t.Fatalf("adding alice twice: %v", err)
	}
	rs, err := ParseRecipients(file)
	if err != nil || len(rs) != 3 || rs[2].Type != TypeAge || rs[2].Name != "ci" || rs[1].Type != TypeRSA {
		t.Fatalf("parsed %v, %v", rs, err)
	}
	out, removed, err := RemoveRecipients(file, "bob")
	if err != nil || len(removed) != 1 || removed[0].Name != "bob" {
		t.Fatalf("remove bob: %v %v", removed, err)
	}
	if rs, _ := ParseRecipients(out); len(rs) != 2 {
		t.Fatalf("after removing bob: %v", rs)
	}
	if _, _, err := RemoveRecipients(file, "nobody"); err == nil || !strings.Contains(err.Error(), "alice, bob, ci") {
		t.Fatalf("removing nobody: %v", err)
	}

	bad := []struct{ line, want string }{
		{"ssh-dss AAAAB3NzaC1kc3MAAACBAP nobody", "cannot be age recipients"},
		{"ecdsa-sha2-nistp256 AAAAE2VjZHNh x", "cannot be age recipients"},
		{"hello world", "not a public key"},
		{"b3BlbnNzaC1rZXktdjEAAAAACmFlczI1Ni1jdHIAAAAGYmNyeXB0AAAAGAAAABDprivate", "not a public key"},
		{"age1notakey bob", "not a valid age public key"},
		{ageKey, "no name"},
		{strings.Fields(alice.pub)[0] + " " + strings.Fields(alice.pub)[1], "no name"},
		{"ssh-ed25519 AAAAnotbase64!! x", "not a valid ssh-ed25519"},
		{"AGE-SECRET-KEY-1QQQQ", "PRIVATE key"},
	}
	for _, b := range bad {
		_, err := ParseRecipients(append(FormatRecipients(nil), []byte(b.line+"\n")...))
		if err == nil || !strings.Contains(err.Error(), b.want) || !strings.Contains(err.Error(), "line 4") {
			t.Errorf("%q: want an error with %q on line 4, got %v", b.line, b.want, err)
		}
		if strings.HasPrefix(b.line, "AGE-SECRET") && strings.Contains(err.Error(), "QQQQ") {
			t.Error("the error echoes a private key")
		}
		if strings.HasPrefix(b.line, "b3Blbn") && strings.Contains(err.Error(), "b3Blbn") {
			t.Error("the error echoes a line that may be part of a private key")
		}
	}
}

// TestInteropWithAgeCLI: the external age CLI (Debian's age 1.1) opens what
// cdb-setup seals, with an SSH key and with an age-keygen identity, and
// cdb-setup opens what the age CLI seals.
func TestInteropWithAgeCLI(t *testing.T) {
	ageBin := testenv.NeedCommand(t, "age")
	tarBin := testenv.NeedCommand(t, "tar")
	alice := newPerson(t, "alice", "ed25519", "")
	bob := newPerson(t, "bob", "rsa", "")
	dir := testenv.TempDir(t)
	ciKey := filepath.Join(dir, "ci.txt")
	ciPub := testenv.AgeKey(t, ciKey)
	ci, err := ParseRecipientLine(ciPub + " ci")
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := Seal(sample, []Recipient{alice.r, bob.r, ci})
	if err != nil {
		t.Fatal(err)
	}
	sealedPath := filepath.Join(dir, "team-secrets.age")
	if err := os.WriteFile(sealedPath, sealed, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{alice.key, bob.key, ciKey} {
		// The documented command: age -d -i KEY FILE | tar -x -C DIR.
		out := filepath.Join(testenv.TempDir(t), "secrets")
		os.MkdirAll(out, 0o700)
		plain, err := exec.Command(ageBin, "-d", "-i", key, sealedPath).Output()
		if err != nil {
			t.Fatalf("age -d -i %s: %v", filepath.Base(key), err)
		}
		x := exec.Command(tarBin, "-x", "-C", out)
		x.Stdin = bytes.NewReader(plain)
		if o, err := x.CombinedOutput(); err != nil {
			t.Fatalf("tar -x: %v: %s", err, o)
		}
		for n, v := range sample {
			got, err := os.ReadFile(filepath.Join(out, n))
			if err != nil || !bytes.Equal(got, v) {
				t.Errorf("age CLI with %s: %s differs or is missing (%v)", filepath.Base(key), n, err)
			}
		}
	}

	// The other way: the age CLI seals a bundle, cdb-setup opens it.
	plain, err := MarshalBundle(sample)
	if err != nil {
		t.Fatal(err)
	}
	rfile := filepath.Join(dir, "recipients.txt")
	os.WriteFile(rfile, []byte(alice.pub), 0o644)
	enc := exec.Command(ageBin, "-a", "-R", rfile, "-r", ciPub)
	enc.Stdin = bytes.NewReader(plain)
	byCLI, err := enc.Output()
	if err != nil {
		t.Fatalf("age -a -R: %v", err)
	}
	b, err := Open(byCLI, []*Identity{alice.identity(t)}, nil)
	if err != nil {
		t.Fatalf("open what the age CLI sealed: %v", err)
	}
	sameBundle(t, b, sample)
	ciID, err := ParseIdentity(IdentityEnv, mustRead(t, ciKey))
	if err != nil {
		t.Fatal(err)
	}
	if b, err = Open(byCLI, []*Identity{ciID}, nil); err != nil {
		t.Fatalf("open with the age-keygen identity: %v", err)
	}
	sameBundle(t, b, sample)
}

func mustRead(t *testing.T, p string) []byte {
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestBundleRejectsForeignContent(t *testing.T) {
	if _, err := MarshalBundle(Bundle{"../x": []byte("v")}); err == nil {
		t.Fatal("a path was accepted as a secret name")
	}
	if _, err := UnmarshalBundle([]byte("not a tar archive at all, padded to more than one block" + strings.Repeat(" ", 600))); err == nil {
		t.Fatal("garbage was read as a bundle")
	}
}
