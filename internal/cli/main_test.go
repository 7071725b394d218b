package cli

import (
	"context"
	"os"
	"os/signal"
	"testing"

	"github.com/claire-de-binare/cdb-setup/internal/platform"
)

// TestMain lets the test binary act as cdb-setup itself (for the terminal
// tests), so they drive the real command line without a separate build.
func TestMain(m *testing.M) {
	if os.Getenv("CDB_SETUP_TEST_BE_MAIN") == "1" {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
		code := Main(ctx, os.Args[1:], System(), platform.OSEnvironment{})
		stop()
		os.Exit(code)
	}
	code := m.Run()
	cleanupE2E()
	os.Exit(code)
}
