package rotate

import (
	"github.com/claire-de-binare/cdb-setup/internal/testenv"

	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

func TestConsumersAndStale(t *testing.T) {
	dir := testenv.TempDir(t)
	pg, redis := filepath.Join(dir, "POSTGRES_PASSWORD"), filepath.Join(dir, "REDIS_PASSWORD")
	os.WriteFile(pg, []byte("a"), 0o644)
	os.WriteFile(redis, []byte("b"), 0o644)
	created := time.Now().Add(-time.Hour)
	list := []Container{
		{ID: "1", Service: "cdb_postgres", Binds: []string{pg}, Volumes: []string{"cdb_postgres_data"}, Created: created},
		{ID: "2", Service: "cdb_redis", Binds: []string{redis}, Volumes: []string{"cdb_redis_data"}, Created: created},
		{ID: "3", Service: "cdb_ws", Binds: []string{redis, pg}, Created: created},
		{ID: "4", Service: "cdb_prometheus", Created: created},
	}
	kept := map[string]string{pg: "cdb_postgres_data"}
	re, in := Consumers(list, []string{pg}, kept)
	if !slices.Equal(re, []string{"cdb_ws"}) || !slices.Equal(in, []string{"cdb_postgres"}) {
		t.Errorf("postgres password: recreate %v, in place %v", re, in)
	}
	re, in = Consumers(list, []string{redis}, kept)
	if !slices.Equal(re, []string{"cdb_redis", "cdb_ws"}) || len(in) != 0 {
		t.Errorf("redis password: recreate %v, in place %v", re, in)
	}

	// Both files older than the containers: nothing is stale.
	old := created.Add(-time.Minute)
	os.Chtimes(pg, old, old)
	os.Chtimes(redis, old, old)
	if s, _ := Stale(list, []string{pg, redis}, kept); len(s) != 0 {
		t.Errorf("stale %v", s)
	}
	// Both changed since: postgres keeps its password in its volume (read
	// only at initialisation) and is not stale; redis and cdb_ws are.
	now := time.Now()
	os.Chtimes(pg, now, now)
	os.Chtimes(redis, now, now)
	s, why := Stale(list, []string{pg, redis}, kept)
	if !slices.Equal(s, []string{"cdb_redis", "cdb_ws"}) || !slices.Equal(why["cdb_ws"], []string{"POSTGRES_PASSWORD", "REDIS_PASSWORD"}) {
		t.Errorf("stale %v %v", s, why)
	}
}
