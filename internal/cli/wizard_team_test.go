package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/claire-de-binare/cdb-setup/internal/manifest"
	"github.com/claire-de-binare/cdb-setup/internal/setup"
	"github.com/claire-de-binare/cdb-setup/internal/team"
	"github.com/claire-de-binare/cdb-setup/internal/testenv"
)

// sealForWizard seals values in the harness repo for the given public keys.
func sealForWizard(t *testing.T, repo string, pubs ...string) {
	t.Helper()
	var rs []team.Recipient
	for _, p := range pubs {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		r, err := team.ParseRecipientLine(string(b))
		if err != nil {
			t.Fatal(err)
		}
		rs = append(rs, r)
	}
	b := team.Bundle{"SMTP_PASSWORD": []byte(testSecret), "MEXC_API_KEY.txt": []byte("mx0teamkey")}
	sealed, err := team.Seal(b, rs)
	if err != nil {
		t.Fatal(err)
	}
	for rel, data := range map[string][]byte{manifest.DefaultTeamSealed: sealed, manifest.DefaultTeamRecipients: team.FormatRecipients(rs)} {
		p := filepath.Join(repo, filepath.FromSlash(rel))
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// On a fresh clone whose sealed file lists the user's key, the wizard
// opens it instead of asking for each external secret.
func TestWizardOpensTeamSecrets(t *testing.T) {
	h := newWizardHarness(t)
	key := testenv.SSHKey(t, filepath.Join(h.home, ".ssh"), "id_ed25519", "ed25519", "", "alice")
	sealForWizard(t, h.repo, key+".pub")
	var seen setup.Input
	code := h.run(t, h.allAreas(&seen), "--yes", "--secrets-path", filepath.Join(h.home, "s"), "--persist", "none")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, h.err.String())
	}
	out := h.err.String()
	if !strings.Contains(out, "Open the team's shared secrets with ~"+string(os.PathSeparator)+filepath.Join(".ssh", "id_ed25519")+"?") {
		t.Errorf("the wizard did not offer the team's secrets:\n%s", out)
	}
	if seen.Answers.External["SMTP_PASSWORD"] != testSecret || seen.Answers.External["MEXC_API_KEY.txt"] != "mx0teamkey" {
		t.Errorf("the opened values are not the answers the secrets step gets")
	}
	if strings.Contains(out, testSecret) || strings.Contains(h.out.String(), testSecret) {
		t.Error("a sealed value is in the output")
	}
}

// When none of the user's keys is listed, the wizard names who can add it
// and the exact command, then asks as before.
func TestWizardTeamSecretsNotListed(t *testing.T) {
	h := newWizardHarness(t)
	other := testenv.SSHKey(t, filepath.Join(testenv.TempDir(t), "bob"), "id_ed25519", "ed25519", "", "bob")
	sealForWizard(t, h.repo, other+".pub")
	testenv.SSHKey(t, filepath.Join(h.home, ".ssh"), "id_ed25519", "ed25519", "", "carol")
	var seen setup.Input
	code := h.run(t, h.allAreas(&seen), "--yes", "--secrets-path", filepath.Join(h.home, "s"), "--persist", "none")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, h.err.String())
	}
	out := h.err.String()
	for _, want := range []string{"none of your keys is listed", "ask bob to run `cdb-setup team add 'ssh-ed25519 "} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if len(seen.Answers.External) != 0 {
		t.Error("values came from a file not sealed for this user")
	}
	for _, c := range suggestedCommands(out) {
		if err := checkSuggested(c); err != nil {
			t.Errorf("suggested %q: %v", c, err)
		}
	}
}
