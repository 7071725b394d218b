package composefile

import (
	"github.com/claire-de-binare/cdb-setup/internal/testenv"

	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := testenv.TempDir(t)
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

const base = `name: ${STACK_NAME:-cdb}
services:
  cdb_redis:
    image: redis:7.4-alpine
    secrets: [redis_password]
secrets:
  redis_password:
    file: ${SECRETS_PATH}/REDIS_PASSWORD
`

const overlay = `services:
  cdb_grafana:
    image: grafana/grafana
    environment:
      GF_SECURITY_ADMIN_PASSWORD: ${GRAFANA_PASSWORD}
    secrets: [grafana_password]
secrets:
  grafana_password:
    file: ${SECRETS_PATH}/GRAFANA_PASSWORD
`

func TestLoadMergesOverlaysAndInterpolates(t *testing.T) {
	repo := writeFiles(t, map[string]string{"c/base.yml": base, "c/dev.yml": overlay})
	l, err := Load(context.Background(), Options{
		Repo: repo, Files: []string{"c/base.yml", "c/dev.yml"},
		Env: map[string]string{"SECRETS_PATH": "/s"},
	})
	if err != nil {
		t.Fatal(err)
	}
	p := l.Project
	if p.Name != "cdb" {
		t.Errorf("project name = %q, want cdb from ${STACK_NAME:-cdb}", p.Name)
	}
	if got := filepath.ToSlash(p.Secrets["grafana_password"].File); got != "/s/GRAFANA_PASSWORD" {
		t.Errorf("overlay secret file = %q", got)
	}
	if len(p.Services) != 2 {
		t.Errorf("services = %d, want 2 (base + overlay)", len(p.Services))
	}
	// compose warns about the unset GRAFANA_PASSWORD; we collect, not print.
	if len(l.Warnings) != 1 || !strings.Contains(l.Warnings[0], "GRAFANA_PASSWORD") {
		t.Errorf("warnings = %q", l.Warnings)
	}
}

func TestLoadProjectNameOverride(t *testing.T) {
	repo := writeFiles(t, map[string]string{"base.yml": base})
	l, err := Load(context.Background(), Options{Repo: repo, Files: []string{"base.yml"}, Env: map[string]string{"SECRETS_PATH": "/s", "STACK_NAME": "other"}, ProjectName: "cdbt"})
	if err != nil {
		t.Fatal(err)
	}
	if l.Project.Name != "cdbt" {
		t.Errorf("name = %q, want the override", l.Project.Name)
	}
}

func TestLoadErrorsNameTheFile(t *testing.T) {
	cases := []struct {
		name  string
		files map[string]string
		load  []string
		want  []string
	}{
		{"missing file", map[string]string{"base.yml": base}, []string{"base.yml", "dev.yml"}, []string{"dev.yml is missing", "--repo"}},
		{"folder", map[string]string{"dev.yml/x": ""}, []string{"dev.yml"}, []string{"dev.yml is a folder"}},
		{"bad yaml", map[string]string{"base.yml": "services:\n  a:\n    image: [\n"}, []string{"base.yml"}, []string{"malformed", "base.yml", "line"}},
		{"wrong type", map[string]string{"base.yml": "services:\n  a:\n    ports: 12\n"}, []string{"base.yml"}, []string{"malformed"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			repo := writeFiles(t, c.files)
			_, err := Load(context.Background(), Options{Repo: repo, Files: c.load, Env: map[string]string{}})
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func FuzzLoad(f *testing.F) {
	f.Add(base)
	f.Add(overlay)
	f.Add("services: {a: {image: x, secrets: [s]}}\nsecrets: {s: {file: ${SECRETS_PATH}/../x}}\n")
	f.Fuzz(func(t *testing.T, content string) {
		dir := testenv.TempDir(t)
		if err := os.WriteFile(filepath.Join(dir, "base.yml"), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		// Any input either loads or returns an error; it must never panic
		// or hang.
		_, _ = Load(context.Background(), Options{Repo: dir, Files: []string{"base.yml"}, Env: map[string]string{"SECRETS_PATH": "/s"}})
	})
}
