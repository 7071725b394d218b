package cli

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/claire-de-binare/cdb-setup/internal/testenv"
)

// A blank secret-named variable is reported only when a started service
// refers to it (issue 12: no "GRAFANA_PASSWORD is not set" when Grafana is
// not a target).
func TestStartedServiceUses(t *testing.T) {
	repo := testenv.TempDir(t)
	os.MkdirAll(filepath.Join(repo, "compose"), 0o755)
	os.WriteFile(filepath.Join(repo, "compose", "dev.yml"), []byte(`services:
  cdb_grafana:
    environment:
      GF_SECURITY_ADMIN_PASSWORD: ${GRAFANA_PASSWORD}
  cdb_redis:
    command: ["redis-server"]
  cdb_app:
    environment: {X: $GRAFANA_PASSWORD_OTHER}
`), 0o644)
	files := []string{"compose/dev.yml"}
	if startedServiceUses(repo, files, []string{"cdb_redis"}, "GRAFANA_PASSWORD") {
		t.Error("redis alone does not use GRAFANA_PASSWORD")
	}
	if startedServiceUses(repo, files, []string{"cdb_redis", "cdb_app"}, "GRAFANA_PASSWORD") {
		t.Error("a longer variable name is not a use")
	}
	if !startedServiceUses(repo, files, []string{"cdb_redis", "cdb_grafana"}, "GRAFANA_PASSWORD") {
		t.Error("grafana uses GRAFANA_PASSWORD")
	}
	if !startedServiceUses(repo, []string{"compose/missing.yml"}, []string{"cdb_redis"}, "GRAFANA_PASSWORD") {
		t.Error("an unreadable file must keep the warning")
	}
}
