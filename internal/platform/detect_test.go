package platform

import (
	"io/fs"
	"path/filepath"
	"reflect"
	"runtime"
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
	skipUnixPathsOnWindows(t)
	cases := []struct {
		name       string
		goos       string
		env        MapEnvironment
		files      map[string]string
		wantDocs   string
		wantSource string
	}{
		{"linux default", "linux", MapEnvironment{"HOME": "/home/a"}, nil, "/home/a/Documents", "default"},
		{"linux user-dirs", "linux", MapEnvironment{"HOME": "/home/a"},
			map[string]string{"/home/a/.config/user-dirs.dirs": "# comment\nXDG_DESKTOP_DIR=\"$HOME/Desktop\"\nXDG_DOCUMENTS_DIR=\"$HOME/Dokumente\"\n"},
			"/home/a/Dokumente", "user-dirs.dirs"},
		{"linux user-dirs under XDG_CONFIG_HOME", "linux", MapEnvironment{"HOME": "/home/a", "XDG_CONFIG_HOME": "/cfg"},
			map[string]string{"/cfg/user-dirs.dirs": "XDG_DOCUMENTS_DIR=\"/data/docs\"\n"}, "/data/docs", "user-dirs.dirs"},
		{"linux user-dirs disabled (= HOME)", "linux", MapEnvironment{"HOME": "/home/a"},
			map[string]string{"/home/a/.config/user-dirs.dirs": "XDG_DOCUMENTS_DIR=\"$HOME/\"\n"}, "/home/a/Documents", "default"},
		{"linux env wins", "linux", MapEnvironment{"HOME": "/home/a", "XDG_DOCUMENTS_DIR": "~/Docs"}, nil, "/home/a/Docs", "XDG_DOCUMENTS_DIR"},
		{"darwin", "darwin", MapEnvironment{"HOME": "/Users/a"}, nil, "/Users/a/Documents", "default"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f, err := detect(c.env, c.goos, readFrom(c.files))
			if err != nil {
				t.Fatal(err)
			}
			if f.Documents != filepath.FromSlash(c.wantDocs) || f.DocumentsSource != c.wantSource {
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
	skipUnixPathsOnWindows(t)
	got := ParseUserDirs("XDG_DOCUMENTS_DIR=\"$HOME/My \\\"Docs\\\"\"\r\nXDG_MUSIC_DIR=\"/abs/music\"\nXDG_BAD_DIR=relative\nXDG_VIDEOS_DIR=\"videos\"\nNOT_XDG=\"$HOME/x\"\n", "/h")
	want := map[string]string{"XDG_DOCUMENTS_DIR": "/h/My \"Docs\"", "XDG_MUSIC_DIR": "/abs/music"}
	for k, v := range want {
		want[k] = filepath.FromSlash(v)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func FuzzParseUserDirs(f *testing.F) {
	f.Add("XDG_DOCUMENTS_DIR=\"$HOME/Documents\"\n")
	f.Add("XDG_DOCUMENTS_DIR=\"/x\"\r\n# c\n")
	f.Fuzz(func(t *testing.T, content string) {
		skipUnixPathsOnWindows(t)
		for k, v := range ParseUserDirs(content, "/home/u") {
			// Every result is an absolute, clean path: never a relative one
			// that would put secrets somewhere unexpected.
			if !filepath.IsAbs(v) || filepath.Clean(v) != v {
				t.Fatalf("%s = %q is not a clean absolute path", k, v)
			}
		}
	})
}

// skipUnixPathsOnWindows: these cases give detect() a Linux or macOS
// environment with Unix paths, which only a Unix host resolves (on Windows
// "/home/a" is not absolute). The Windows branch has its own cases.
func skipUnixPathsOnWindows(t testing.TB) {
	if runtime.GOOS == "windows" {
		t.Skip("Unix path semantics; runs on the Linux and macOS hosts")
	}
}
