package platform

import (
	"io/fs"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
)

func readFrom(files map[string]string) func(string) ([]byte, error) {
	return func(p string) ([]byte, error) {
		if s, ok := files[filepath.ToSlash(p)]; ok {
			return []byte(s), nil
		}
		return nil, fs.ErrNotExist
	}
}

func TestDetectDocuments(t *testing.T) {
	h, cfg := hostAbs("/home/a"), hostAbs("/cfg")
	key := func(p string) string { return filepath.ToSlash(p) }
	cases := []struct {
		name       string
		goos       string
		env        MapEnvironment
		files      map[string]string
		wantDocs   string
		wantSource string
	}{
		{"linux default", "linux", MapEnvironment{"HOME": h}, nil, filepath.Join(h, "Documents"), "default"},
		{"linux user-dirs", "linux", MapEnvironment{"HOME": h},
			map[string]string{key(filepath.Join(h, ".config", "user-dirs.dirs")): "# comment\nXDG_DESKTOP_DIR=\"$HOME/Desktop\"\nXDG_DOCUMENTS_DIR=\"$HOME/Dokumente\"\n"},
			filepath.Join(h, "Dokumente"), "user-dirs.dirs"},
		// user-dirs.dirs is a Linux file: an absolute value is a Unix path
		// ("/data/docs"), kept as written.
		{"linux user-dirs under XDG_CONFIG_HOME", "linux", MapEnvironment{"HOME": h, "XDG_CONFIG_HOME": cfg},
			map[string]string{key(filepath.Join(cfg, "user-dirs.dirs")): "XDG_DOCUMENTS_DIR=\"/data/docs\"\n"}, filepath.FromSlash("/data/docs"), "user-dirs.dirs"},
		{"linux user-dirs disabled (= HOME)", "linux", MapEnvironment{"HOME": h},
			map[string]string{key(filepath.Join(h, ".config", "user-dirs.dirs")): "XDG_DOCUMENTS_DIR=\"$HOME/\"\n"}, filepath.Join(h, "Documents"), "default"},
		{"linux env wins", "linux", MapEnvironment{"HOME": h, "XDG_DOCUMENTS_DIR": "~/Docs"}, nil, filepath.Join(h, "Docs"), "XDG_DOCUMENTS_DIR"},
		{"darwin", "darwin", MapEnvironment{"HOME": hostAbs("/Users/a")}, nil, filepath.Join(hostAbs("/Users/a"), "Documents"), "default"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f, err := detect(c.env, c.goos, readFrom(c.files))
			if err != nil {
				t.Fatal(err)
			}
			if f.Documents != c.wantDocs || f.DocumentsSource != c.wantSource {
				t.Errorf("Documents = %q (%s), want %q (%s)", f.Documents, f.DocumentsSource, c.wantDocs, c.wantSource)
			}
			if f.DefaultSecretsPath() != filepath.Join(f.Documents, ".secrets", ".cdb") {
				t.Errorf("DefaultSecretsPath = %q", f.DefaultSecretsPath())
			}
		})
	}
}

func TestDetectWSL(t *testing.T) {
	f, _ := detect(MapEnvironment{"HOME": "/h", "WSL_DISTRO_NAME": "Ubuntu"}, "linux", readFrom(nil))
	if !f.WSL || f.WSLDistro != "Ubuntu" {
		t.Errorf("WSL from env: %+v", f)
	}
	f, _ = detect(MapEnvironment{"HOME": "/h"}, "linux", readFrom(map[string]string{"/proc/version": "Linux version 5.15.153.1-microsoft-standard-WSL2"}))
	if !f.WSL {
		t.Errorf("WSL from /proc/version not detected")
	}
	f, _ = detect(MapEnvironment{"HOME": "/h"}, "linux", readFrom(map[string]string{"/proc/version": "Linux version 6.1.0-13-amd64 (debian-kernel@lists.debian.org)"}))
	if f.WSL {
		t.Errorf("plain Linux detected as WSL")
	}
}

func TestDetectNeedsHome(t *testing.T) {
	if _, err := detect(MapEnvironment{}, "linux", readFrom(nil)); err == nil {
		t.Error("no error without HOME")
	}
	if _, err := detect(MapEnvironment{"HOME": "/h"}, "windows", readFrom(nil)); err == nil {
		t.Error("no error without USERPROFILE on windows")
	}
}

func TestCloudSyncOneDrive(t *testing.T) {
	env := MapEnvironment{"OneDrive": `C:\Users\a\OneDrive`}
	if got := cloudSync(env, "windows", `C:\Users\a`, `C:\Users\a\OneDrive\Documents`); got != "OneDrive" {
		t.Errorf("redirected Documents: %q", got)
	}
	if got := cloudSync(env, "windows", `C:\Users\a`, `C:\Users\a\Documents`); got != "" {
		t.Errorf("local Documents reported as %q", got)
	}
}

func TestParseUserDirs(t *testing.T) {
	h := hostAbs("/h")
	got := ParseUserDirs("XDG_DOCUMENTS_DIR=\"$HOME/My \\\"Docs\\\"\"\r\nXDG_MUSIC_DIR=\"/abs/music\"\nXDG_BAD_DIR=relative\nXDG_VIDEOS_DIR=\"videos\"\nNOT_XDG=\"$HOME/x\"\n", h)
	want := map[string]string{"XDG_DOCUMENTS_DIR": filepath.Join(h, "My \"Docs\""), "XDG_MUSIC_DIR": filepath.FromSlash("/abs/music")}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func FuzzParseUserDirs(f *testing.F) {
	f.Add("XDG_DOCUMENTS_DIR=\"$HOME/Documents\"\n")
	f.Add("XDG_DOCUMENTS_DIR=\"/x\"\r\n# c\n")
	f.Fuzz(func(t *testing.T, content string) {
		for k, v := range ParseUserDirs(content, hostAbs("/home/u")) {
			// Every result is an absolute, clean path: never a relative one
			// that would put secrets somewhere unexpected. (On a Windows
			// host a Unix path from the Linux file is rooted, \x.)
			rooted := filepath.IsAbs(v) || runtime.GOOS == "windows" && strings.HasPrefix(v, `\`)
			if !rooted || filepath.Clean(v) != v {
				t.Fatalf("%s = %q is not a clean absolute path", k, v)
			}
		}
	})
}

// hostAbs makes a Unix-style absolute test path absolute on this host too:
// on Windows "/home/a" has no drive, so it becomes C:\home\a. The code
// under test joins and cleans with the host's filepath, so the Linux and
// macOS cases of detect() hold on a Windows host as well.
func hostAbs(p string) string {
	if runtime.GOOS == "windows" && strings.HasPrefix(p, "/") {
		return filepath.FromSlash("C:" + p)
	}
	return filepath.FromSlash(p)
}
