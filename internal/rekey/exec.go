// Package rekey changes passwords inside running services, so a secret can
// be rotated without deleting the data that keeps the old one (issue 12):
// PostgreSQL through psql on the container's local socket, Grafana through
// its CLI, and the services that read a secret only at start by recreating
// exactly their containers.
//
// Passwords travel only on an exec's stdin: never in argv, the exec's
// environment, logs or errors.
package rekey

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/docker/docker/api/types"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/pkg/stdcopy"
)

// API is the part of the Docker client rekey needs.
type API interface {
	ContainerExecCreate(ctx context.Context, containerID string, options container.ExecOptions) (container.ExecCreateResponse, error)
	ContainerExecAttach(ctx context.Context, execID string, config container.ExecAttachOptions) (types.HijackedResponse, error)
	ContainerExecInspect(ctx context.Context, execID string) (container.ExecInspect, error)
}

// ErrNoCommand: the program is not in the container's image (exit 126/127).
var ErrNoCommand = errors.New("command not found in the container")

// execResult is what a command inside a container did.
type execResult struct {
	Stdout, Stderr string
	Code           int
}

// run runs cmd in the container as its configured user with stdin attached,
// writes stdin, closes it and collects the output. stdin is the only place
// a secret may travel.
func run(ctx context.Context, api API, id string, cmd []string, stdin []byte) (execResult, error) {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	ex, err := api.ContainerExecCreate(ctx, id, container.ExecOptions{Cmd: cmd, AttachStdin: true, AttachStdout: true, AttachStderr: true})
	if err != nil {
		return execResult{}, fmt.Errorf("exec %s: %w", cmd[0], err)
	}
	hj, err := api.ContainerExecAttach(ctx, ex.ID, container.ExecAttachOptions{})
	if err != nil {
		return execResult{}, fmt.Errorf("exec %s: attach: %w", cmd[0], err)
	}
	defer hj.Close()
	go func() {
		<-ctx.Done()
		hj.Close() // unblock the copy below on timeout or Ctrl-C
	}()
	if len(stdin) > 0 {
		if _, err := hj.Conn.Write(stdin); err != nil {
			return execResult{}, fmt.Errorf("exec %s: write stdin: %w", cmd[0], err)
		}
	}
	if err := hj.CloseWrite(); err != nil {
		return execResult{}, fmt.Errorf("exec %s: close stdin: %w", cmd[0], err)
	}
	var out, errb bytes.Buffer
	if _, err := stdcopy.StdCopy(&out, &errb, io.LimitReader(hj.Reader, 1<<20)); err != nil && ctx.Err() == nil {
		return execResult{}, fmt.Errorf("exec %s: read output: %w", cmd[0], err)
	}
	if ctx.Err() != nil {
		return execResult{}, fmt.Errorf("exec %s: %w", cmd[0], ctx.Err())
	}
	for {
		in, err := api.ContainerExecInspect(ctx, ex.ID)
		if err != nil {
			return execResult{}, fmt.Errorf("exec %s: %w", cmd[0], err)
		}
		if !in.Running {
			r := execResult{Stdout: out.String(), Stderr: errb.String(), Code: in.ExitCode}
			if r.Code == 126 || r.Code == 127 {
				return r, fmt.Errorf("%s: %w", cmd[0], ErrNoCommand)
			}
			return r, nil
		}
		select {
		case <-ctx.Done():
			return execResult{}, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}
