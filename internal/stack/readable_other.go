//go:build !unix

package stack

// hostReadable cannot decide on Windows: Docker Desktop maps file access for
// bind mounts itself, so only the in-container check is meaningful.
func hostReadable(path, user string) (ok bool, why string, known bool) {
	return false, "Docker Desktop maps file access; the image has no `test` to check inside", false
}
