package rekey

import (
	"bytes"
	"context"
	"errors"
	"fmt"
)

// Grafana is a running Grafana container. Its admin password lives in
// Grafana's database once the first start created it (GF_SECURITY_ADMIN_
// PASSWORD__FILE is read only then), so a new one is set with the Grafana
// CLI inside the container, reading it from stdin:
// `grafana cli admin reset-admin-password --password-from-stdin`. The
// official image has `grafana` on PATH; older ones only `grafana-cli`.
type Grafana struct {
	API       API
	Container string
}

// SetAdminPassword sets the admin user's password. The CLI reads one line
// from stdin.
func (g Grafana) SetAdminPassword(ctx context.Context, password []byte) error {
	if bytes.ContainsAny(password, "\r\n") {
		return errors.New("the Grafana CLI reads one line: a password with a line break cannot be set")
	}
	in := append(append([]byte{}, password...), '\n')
	var last error
	for _, cmd := range [][]string{
		{"grafana", "cli", "admin", "reset-admin-password", "--password-from-stdin"},
		{"grafana-cli", "admin", "reset-admin-password", "--password-from-stdin"},
	} {
		r, err := run(ctx, g.API, g.Container, cmd, in)
		if errors.Is(err, ErrNoCommand) {
			last = err
			continue
		}
		if err != nil {
			return fmt.Errorf("reset Grafana's admin password: %w", err)
		}
		if r.Code != 0 {
			return fmt.Errorf("reset Grafana's admin password: %s exited %d: %s", cmd[0], r.Code, firstLine(r.Stderr+"\n"+r.Stdout))
		}
		return nil
	}
	return fmt.Errorf("reset Grafana's admin password: neither `grafana cli` nor `grafana-cli` is in the container (%v)", last)
}
