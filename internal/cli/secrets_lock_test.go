package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/claire-de-binare/cdb-setup/internal/platform"
)

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestSecretsInitWaitsForLock: a second run waits while another holds the
// run lock, says who holds it, and proceeds once it is released.
func TestSecretsInitWaitsForLock(t *testing.T) {
	env, home := fixtureEnv(t)
	stateDir := env["CDB_SETUP_STATE_DIR"]
	os.MkdirAll(stateDir, 0o700)
	held, err := platform.TryLock(filepath.Join(stateDir, "lock"), "test holder")
	if err != nil {
		t.Fatal(err)
	}
	var errOut syncBuffer
	done := make(chan int)
	go func() {
		io := &IOStreams{In: strings.NewReader(""), Out: &bytes.Buffer{}, ErrOut: &errOut}
		done <- Main(context.Background(), []string{"secrets", "init", "--no-input", "--secrets-path", filepath.Join(home, "s")}, io, env)
	}()
	// Wait (no deadline of our own: the test binary's timeout applies) until
	// the second run reports whom it waits for.
	for !strings.Contains(errOut.String(), "Waiting for another cdb-setup run") {
		select {
		case code := <-done:
			t.Fatalf("init finished (exit %d) while the lock was held:\n%s", code, errOut.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	if !strings.Contains(errOut.String(), "test holder") {
		t.Errorf("the holder is not named:\n%s", errOut.String())
	}
	if _, err := os.Stat(filepath.Join(home, "s", "REDIS_PASSWORD")); err == nil {
		t.Fatal("secrets written while another run held the lock")
	}
	held.Release()
	if code := <-done; code != 0 {
		t.Fatalf("exit %d after the lock was released:\n%s", code, errOut.String())
	}
}
