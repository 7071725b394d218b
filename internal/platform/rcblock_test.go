package platform

import (
	"bytes"
	"errors"
	"testing"
)

var testBlock = Block{
	Begin: "# >>> cdb-setup SECRETS_PATH >>>",
	End:   "# <<< cdb-setup SECRETS_PATH <<<",
	Body:  []string{"export SECRETS_PATH='/home/u/Documents/.secrets/.cdb'"},
}

func TestUpsertRemoveRoundTrip(t *testing.T) {
	cases := map[string]string{
		"empty":              "",
		"one line":           "alias ll='ls -l'\n",
		"no final newline":   "alias ll='ls -l'",
		"crlf":               "a=1\r\nb=2\r\n",
		"crlf no final":      "a=1\r\nb=2",
		"trailing cr":        "a=1\r",
		"blank lines":        "\n\n\n",
		"conda block around": "# >>> conda initialize >>>\n    __conda_setup=x\n    # >>> nested >>>\n# <<< conda initialize <<<\n",
		"mixed endings":      "a\r\nb\nc\n",
		"only newline":       "\n",
		"marker substring":   "echo '# >>> cdb-setup SECRETS_PATH >>> not alone'\n",
	}
	for name, in := range cases {
		t.Run(name, func(t *testing.T) {
			up, err := Upsert([]byte(in), testBlock)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.HasPrefix(up, []byte(in)) {
				t.Errorf("Upsert changed the user's bytes: %q -> %q", in, up)
			}
			again, err := Upsert(up, testBlock)
			if err != nil || !bytes.Equal(again, up) {
				t.Errorf("Upsert not idempotent: %q -> %q (%v)", up, again, err)
			}
			back, err := Remove(up, testBlock)
			if err != nil {
				t.Fatal(err)
			}
			if string(back) != in {
				t.Errorf("Remove(Upsert(x)) = %q, want %q", back, in)
			}
		})
	}
}

func TestUpsertKeepsLineEndings(t *testing.T) {
	up, err := Upsert([]byte("a=1\r\nb=2\r\n"), testBlock)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Count(up, []byte("\n")) != bytes.Count(up, []byte("\r\n")) {
		t.Errorf("LF line in a CRLF file: %q", up)
	}
}

func TestUpsertReplacesInPlace(t *testing.T) {
	in := "before\n" + testBlock.Begin + "\nexport SECRETS_PATH=/old\n" + testBlock.End + "\nafter\n"
	up, err := Upsert([]byte(in), testBlock)
	if err != nil {
		t.Fatal(err)
	}
	want := "before\n" + testBlock.Begin + "\n" + testBlock.Body[0] + "\n" + testBlock.End + "\nafter\n"
	if string(up) != want {
		t.Errorf("got %q, want %q", up, want)
	}
	// Indented markers (a user moved our block into an if) are still ours.
	ind := "if true; then\n  " + testBlock.Begin + "\n  x\n  " + testBlock.End + "\nfi\n"
	rm, err := Remove([]byte(ind), testBlock)
	if err != nil || string(rm) != "if true; then\nfi\n" {
		t.Errorf("Remove indented = %q, %v", rm, err)
	}
}

func TestDamagedMarkersRefused(t *testing.T) {
	b, e := testBlock.Begin, testBlock.End
	cases := map[string]string{
		"unterminated":    "x\n" + b + "\nexport A=1\n",
		"duplicate begin": b + "\n" + b + "\n" + e + "\n",
		"duplicate block": b + "\n" + e + "\n" + b + "\n" + e + "\n",
		"end only":        "x\n" + e + "\n",
		"end before":      e + "\n" + b + "\n",
	}
	for name, in := range cases {
		t.Run(name, func(t *testing.T) {
			if _, err := Upsert([]byte(in), testBlock); !errors.Is(err, ErrBlockMarkers) {
				t.Errorf("Upsert: want ErrBlockMarkers, got %v", err)
			}
			if _, err := Remove([]byte(in), testBlock); !errors.Is(err, ErrBlockMarkers) {
				t.Errorf("Remove: want ErrBlockMarkers, got %v", err)
			}
		})
	}
}

// FuzzBlockEditor checks the editor's promises on arbitrary files: the user's
// bytes outside the block are never changed, Upsert is idempotent, and Remove
// undoes Upsert byte for byte; damaged markers are refused, never guessed.
func FuzzBlockEditor(f *testing.F) {
	f.Add([]byte(""), "/p")
	f.Add([]byte("a\r\nb"), "/with space/it's")
	f.Add([]byte(testBlock.Begin+"\nx\n"+testBlock.End), "$HOME/x")
	f.Add([]byte("x\r"), "/p")
	f.Add([]byte("  "+testBlock.Begin+"\r\n"+testBlock.End+"\r\n"), "C:\\x")
	f.Fuzz(func(t *testing.T, in []byte, value string) {
		b := testBlock
		b.Body = []string{"export SECRETS_PATH=" + ShellQuote(value)}
		up, err := Upsert(in, b)
		if err != nil {
			if _, rerr := Remove(in, b); rerr == nil {
				if has, _ := HasBlock(in, b); !has && !bytes.ContainsAny([]byte(value), "\r\n") {
					t.Fatalf("Upsert refused a file Remove accepts: %v", err)
				}
			}
			return
		}
		had, _ := HasBlock(in, b)
		again, err := Upsert(up, b)
		if err != nil || !bytes.Equal(again, up) {
			t.Fatalf("not idempotent: %q -> %q (%v)", up, again, err)
		}
		back, err := Remove(up, b)
		if err != nil {
			t.Fatalf("Remove after Upsert: %v", err)
		}
		if !had {
			if !bytes.Equal(back, in) {
				t.Fatalf("Remove(Upsert(%q)) = %q", in, back)
			}
			return
		}
		want, err := Remove(in, b)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(back, want) {
			t.Fatalf("Remove(Upsert(x)) = %q, Remove(x) = %q", back, want)
		}
	})
}

// FuzzQuoting: whatever the path, the quoted form reads back as exactly that
// path (sh's rules for ShellQuote, fish's for FishQuote), so a folder name
// with quotes, spaces or $ can never run code or change in a new shell.
func FuzzQuoting(f *testing.F) {
	f.Add(`/home/u/it's a "$HOME" folder`)
	f.Add(`\'\\''`)
	f.Fuzz(func(t *testing.T, v string) {
		if got, ok := shellWord(ShellQuote(v), "/h"); !ok || got != v {
			t.Fatalf("sh: %q -> %q -> %q (%v)", v, ShellQuote(v), got, ok)
		}
		if got, ok := fishWord(FishQuote(v), "/h"); !ok || got != v {
			t.Fatalf("fish: %q -> %q -> %q (%v)", v, FishQuote(v), got, ok)
		}
	})
}
