package secrets

import (
	"fmt"
	"os"
	"strconv"

	"github.com/claire-de-binare/cdb-setup/internal/platform"
)

// DefaultFileMode chooses the secret files' mode for this machine and says
// why, so the output can explain it.
//
// With a Linux Docker engine (native Linux, and WSL, whose bind mounts keep
// Linux owners and modes) the containers read the bind-mounted files as
// their own users (1000 for the apps, 472 for Grafana, 65534 for the
// postgres exporter, 1001 for bitnami images): a 0600 file owned by you is
// unreadable for them. 0644 files inside the 0700 folder still keep other
// host users out, because they cannot enter the folder. Docker Desktop on
// macOS and Windows maps file access itself, so 0600 is enough there.
func DefaultFileMode(f platform.Facts) (os.FileMode, string) {
	switch f.OS {
	case "linux":
		return 0o644, "files 0644 inside the 0700 folder: containers on a Linux Docker engine read them as other users (uid 1000, 472, 65534, 1001), and only you can enter the folder; pass --file-mode 0600 to override"
	case "windows":
		return 0o600, "files readable by you only (protected ACL); Docker Desktop reads them on your behalf"
	default:
		return 0o600, "files 0600 inside the 0700 folder: Docker Desktop reads them on your behalf; pass --file-mode 0644 to override"
	}
}

// ParseFileMode reads --file-mode: only 0600 and 0644 make sense for a
// secret (owner-only, or readable by containers on Linux).
func ParseFileMode(s string) (os.FileMode, error) {
	v, err := strconv.ParseUint(s, 8, 32)
	if err != nil || (v != 0o600 && v != 0o644) {
		return 0, fmt.Errorf("--file-mode %q: use 0600 (only you) or 0644 (containers on a Linux Docker engine can read; the 0700 folder keeps other users out)", s)
	}
	return os.FileMode(v), nil
}
