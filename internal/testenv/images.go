package testenv

import (
	"fmt"
	"os/exec"
	"runtime"
	"testing"
)

// The real PostgreSQL 15 and Redis 7 images built from Debian 12's packages
// by scripts/server-images.sh (scripts/test.sh runs it in its server-images
// phase). The tags are fixed: tests in several packages use them.
const (
	PostgresImage = "cdb-setup-test/postgres:15"
	RedisImage    = "cdb-setup-test/redis:7"
)

// NeedImage skips (or, under CDB_SETUP_REQUIRE_ALL=1, fails) the test when
// the local Docker Engine is unreachable or lacks the image tag. No image is
// ever pulled: the machine reaches no registry.
func NeedImage(t testing.TB, tag string) {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skipf("%s: the real-server images are Linux images, run by the Linux tests", tag)
	}
	docker := NeedCommand(t, "docker")
	Need(t, exec.Command(docker, "info").Run() == nil, "a running Docker Engine (`docker info` failed)")
	err := exec.Command(docker, "image", "inspect", "--format", "{{.Id}}", tag).Run()
	Need(t, err == nil, fmt.Sprintf("the image %s (build it with scripts/server-images.sh; scripts/test.sh does)", tag))
}
