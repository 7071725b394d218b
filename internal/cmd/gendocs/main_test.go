package main

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/claire-de-binare/cdb-setup/internal/testenv"
)

func TestGendocsWritesCompletionsAndManPages(t *testing.T) {
	out := testenv.TempDir(t)
	var log bytes.Buffer
	if err := run([]string{"-out", out, "-date", "2026-01-02T03:04:05Z", "-version", "1.2.3"}, &log); err != nil {
		t.Fatalf("run: %v\n%s", err, log.String())
	}
	for _, f := range []string{"cdb-setup.bash", "cdb-setup.zsh", "cdb-setup.fish", "cdb-setup.ps1"} {
		b, err := os.ReadFile(filepath.Join(out, "completions", f))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(b, []byte("cdb-setup")) {
			t.Errorf("%s does not mention cdb-setup", f)
		}
	}
	for _, f := range []string{"cdb-setup.1.gz", "cdb-setup-version.1.gz", "cdb-setup-completion.1.gz"} {
		page := gunzip(t, filepath.Join(out, "manpages", f))
		if !strings.Contains(page, `.TH "`) || !strings.Contains(page, "cdb-setup 1.2.3") || !strings.Contains(page, "Jan 2026") {
			t.Errorf("%s: missing header, version or date:\n%.300s", f, page)
		}
		if strings.Contains(page, "Auto generated") {
			t.Errorf("%s carries cobra's non-reproducible auto-gen trailer", f)
		}
	}
}

func TestGendocsIsReproducible(t *testing.T) {
	a, b := testenv.TempDir(t), testenv.TempDir(t)
	for _, dir := range []string{a, b} {
		if err := run([]string{"-out", dir, "-date", "2026-01-02T03:04:05Z"}, io.Discard); err != nil {
			t.Fatal(err)
		}
	}
	ents, err := os.ReadDir(filepath.Join(a, "manpages"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		x, _ := os.ReadFile(filepath.Join(a, "manpages", e.Name()))
		y, _ := os.ReadFile(filepath.Join(b, "manpages", e.Name()))
		if !bytes.Equal(x, y) {
			t.Errorf("%s differs between two runs", e.Name())
		}
	}
}

func gunzip(t *testing.T, path string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	if zr.Name != "" || !zr.ModTime.IsZero() {
		t.Errorf("%s: gzip header carries name %q / time %v", path, zr.Name, zr.ModTime)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
