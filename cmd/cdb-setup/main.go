// Command cdb-setup installs and checks the Claire de Binare developer stack.
package main

import (
	"context"
	"os"
	"os/signal"

	"github.com/claire-de-binare/cdb-setup/internal/cli"
	"github.com/claire-de-binare/cdb-setup/internal/platform"
)

func main() {
	// Ctrl-C cancels the context; every step checks it between effects, so an
	// interrupted run stops at a consistent point and exits 130.
	ctx, stop := signal.NotifyContext(context.Background(), interruptSignals...)
	defer stop()
	code := cli.Main(ctx, os.Args[1:], cli.System(), platform.OSEnvironment{})
	stop()
	os.Exit(code)
}
