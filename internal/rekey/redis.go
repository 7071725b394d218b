package rekey

import (
	"context"
	"fmt"
	"strings"
)

// Redis is a running Redis container. Redis reads its password only at
// start (`--requirepass $(cat /run/secrets/...)`), so a new one takes
// effect by recreating the container; Save first writes the dataset to the
// data volume so the recreated server loads every key.
type Redis struct {
	API       API
	Container string
}

// Save authenticates with password and runs SAVE, through redis-cli's
// stdin (commands read from a pipe), so the password is in no argv.
func (r Redis) Save(ctx context.Context, password []byte) error {
	in := "AUTH " + respQuote(string(password)) + "\nSAVE\n"
	res, err := run(ctx, r.API, r.Container, []string{"redis-cli"}, []byte(in))
	if err != nil {
		return fmt.Errorf("save redis' data before the restart: %w", err)
	}
	lines := strings.Fields(strings.TrimSpace(res.Stdout))
	if res.Code != 0 || len(lines) < 2 || lines[0] != "OK" || lines[len(lines)-1] != "OK" {
		out := res.Stdout + res.Stderr
		if strings.Contains(out, "WRONGPASS") {
			return fmt.Errorf("save redis' data before the restart: redis refused the password from the secret file (WRONGPASS)")
		}
		return fmt.Errorf("save redis' data before the restart: redis-cli exited %d: %s", res.Code, firstLine(out))
	}
	return nil
}

// respQuote quotes s for redis-cli's argument splitter (double quotes with
// backslash escapes), so any byte reaches AUTH unchanged.
func respQuote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < 0x20 || c >= 0x7f:
			fmt.Fprintf(&b, "\\x%02x", c)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}
