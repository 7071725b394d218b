//go:build !linux

package checks

// processHolding cannot name the process without /proc; the fix text tells
// the user how to find it (lsof, netstat).
func processHolding(port int) string {
	return "another process"
}
