package composefile

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/claire-de-binare/cdb-setup/internal/testenv"
)

// Shapes that make compose-go's decoder panic when the schema is skipped
// (found by FuzzDiscover) get the schema's words instead, never a crash.
func TestLoadWithoutSchemaNeverPanics(t *testing.T) {
	dir := testenv.TempDir(t)
	if err := os.WriteFile(filepath.Join(dir, "base.yml"), []byte("serviCes:\n 0A0"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Load(context.Background(), Options{Repo: dir, Files: []string{"base.yml"}, SkipValidation: true})
	if err == nil {
		t.Fatal("a malformed file was accepted")
	}
	if strings.Contains(err.Error(), "loader failed") {
		t.Errorf("the schema's message was not used: %v", err)
	}
	t.Logf("error: %v", err)
}
