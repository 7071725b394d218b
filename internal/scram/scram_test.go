package scram

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"
)

// The exchange of RFC 7677 §3 (user "user", password "pencil").
const (
	rfcSalt        = "W22ZaJ0SNY7soEsUEjb6gQ=="
	rfcClientFirst = "n=user,r=rOprNGfwEbeRWgbNEkqO"
	rfcServerFirst = "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"
	rfcFinalNoPf   = "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"
	rfcProof       = "dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
	rfcServerSig   = "6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="
)

func TestRFC7677Vector(t *testing.T) {
	salt, _ := base64.StdEncoding.DecodeString(rfcSalt)
	k, err := Derive("pencil", salt, 4096)
	if err != nil {
		t.Fatal(err)
	}
	msg := rfcClientFirst + "," + rfcServerFirst + "," + rfcFinalNoPf
	if got := base64.StdEncoding.EncodeToString(ClientProof(k, msg)); got != rfcProof {
		t.Errorf("client proof = %s, RFC 7677 says %s", got, rfcProof)
	}
	if got := base64.StdEncoding.EncodeToString(ServerSignature(k.ServerKey, msg)); got != rfcServerSig {
		t.Errorf("server signature = %s, RFC 7677 says %s", got, rfcServerSig)
	}
	v, err := VerifierFor("pencil", salt, 4096)
	if err != nil {
		t.Fatal(err)
	}
	proof, _ := base64.StdEncoding.DecodeString(rfcProof)
	if !v.CheckProof(proof, msg) {
		t.Error("the verifier does not accept the RFC's client proof")
	}
	proof[0] ^= 1
	if v.CheckProof(proof, msg) {
		t.Error("the verifier accepts a corrupted proof")
	}
}

func TestRoundTripAndMatches(t *testing.T) {
	v, err := NewVerifier("Secr3tPassw0rdAlnum")
	if err != nil {
		t.Fatal(err)
	}
	s := v.String()
	if strings.Contains(s, "Secr3t") || !strings.HasPrefix(s, "SCRAM-SHA-256$4096:") {
		t.Fatalf("verifier format: %q", s)
	}
	p, err := Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	if p.String() != s {
		t.Fatalf("parse/format round trip: %q != %q", p.String(), s)
	}
	if ok, err := p.Matches("Secr3tPassw0rdAlnum"); err != nil || !ok {
		t.Errorf("Matches(right) = %v, %v", ok, err)
	}
	if ok, err := p.Matches("Secr3tPassw0rdAlnuM"); err != nil || ok {
		t.Errorf("Matches(wrong) = %v, %v", ok, err)
	}
	if _, err := p.Matches("pässword"); !errors.Is(err, ErrNotASCII) {
		t.Errorf("non-ASCII: %v", err)
	}
	w, _ := NewVerifier("Secr3tPassw0rdAlnum")
	if w.String() == s {
		t.Error("two verifiers of one password share a salt")
	}
}

func TestParseRejects(t *testing.T) {
	for _, in := range []string{
		"", "md5abcdef", "SCRAM-SHA-256$", "SCRAM-SHA-256$4096:c2FsdA==",
		"SCRAM-SHA-256$x:c2FsdA==$AAAA:AAAA", "SCRAM-SHA-256$4096:c2FsdA==$AAAA:AAAA",
		"SCRAM-SHA-256$0:c2FsdA==$" + strings.Repeat("A", 43) + "=:" + strings.Repeat("A", 43) + "=",
	} {
		if _, err := Parse(in); !errors.Is(err, ErrNotSCRAM) {
			t.Errorf("Parse(%q) = %v, want ErrNotSCRAM", in, err)
		}
	}
}

func FuzzParse(f *testing.F) {
	v, _ := VerifierFor("pencil", []byte("0123456789abcdef"), 4096)
	f.Add(v.String())
	f.Add("SCRAM-SHA-256$1:AA==$:")
	f.Fuzz(func(t *testing.T, s string) {
		p, err := Parse(s)
		if err != nil {
			return
		}
		q, err := Parse(p.String())
		if err != nil || q.String() != p.String() {
			t.Fatalf("re-parse of a parsed verifier failed: %v", err)
		}
	})
}
