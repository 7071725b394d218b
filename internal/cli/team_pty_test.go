//go:build !windows

package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestTeamOpenAsksPassphraseInTerminal: a passphrase-protected ed25519 key
// (ssh-keygen -N) is asked for on a real terminal with echo off; a wrong
// passphrase writes nothing, the right one opens the file.
func TestTeamOpenAsksPassphraseInTerminal(t *testing.T) {
	const pass = "erin's passphrase"
	repo := teamRepo(t)
	alice := newTeammate(t, repo, "alice", "ed25519", "")
	erin := newTeammate(t, repo, "erin", "ed25519", pass)
	mustOK(t, "init", alice.run(t, "secrets", "init", "--no-input"))
	writeExternal(t, alice.secrets)
	mustOK(t, "team init", alice.run(t, "team", "init"))
	mustOK(t, "add erin", alice.run(t, "team", "add", erin.key+".pub"))
	mustOK(t, "seal", alice.run(t, "team", "seal"))

	env := append(ptyEnv(erin.home), "CDB_SETUP_REPO="+repo, "CDB_SETUP_SECRETS_PATH="+erin.secrets,
		"CDB_SETUP_STATE_DIR="+filepath.Join(erin.home, "state"))

	tm := startTerm(t, env, "team", "open")
	tm.WaitFor("Passphrase for " + erin.key)
	tm.WaitNoEcho()
	tm.Send("not it\r")
	if code := tm.Exit(); code != 1 {
		t.Fatalf("wrong passphrase: exit %d\n%s", code, tm.plain())
	}
	out := tm.plain()
	for _, want := range []string{"wrong passphrase for " + erin.key, "nothing was written"} {
		if !strings.Contains(out, want) {
			t.Errorf("the terminal lacks %q:\n%s", want, out)
		}
	}
	if ents, _ := os.ReadDir(erin.secrets); len(ents) != 0 {
		t.Errorf("a wrong passphrase wrote %d entries", len(ents))
	}

	tm = startTerm(t, env, "team", "open")
	tm.WaitFor("Passphrase for " + erin.key)
	tm.WaitNoEcho()
	tm.Send(pass + "\r")
	if code := tm.Exit(); code != 0 {
		t.Fatalf("right passphrase: exit %d\n%s", code, tm.plain())
	}
	if strings.Contains(tm.plain(), pass) {
		t.Error("the passphrase was echoed")
	}
	for n, v := range external {
		if got, _ := os.ReadFile(filepath.Join(erin.secrets, n)); string(got) != v {
			t.Errorf("erin's %s differs", n)
		}
	}
}
