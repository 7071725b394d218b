package rekey

import (
	"context"
	"fmt"
	"path"
	"strings"
)

// Redis is a running Redis container. Redis reads its password only at
// start (`--requirepass $(cat /run/secrets/...)`), so a new one takes
// effect by recreating the container; Save first writes the dataset to the
// data volume so the recreated server loads every key.
type Redis struct {
	API       API
	Container string
	// TLS is set when redis serves only TLS (RedisTLSFromCommand); redis-cli
	// then connects with it.
	TLS *RedisTLS
}

// RedisTLS is what redis-cli inside the container needs to reach a redis
// that has no plain-text port: the TLS port, the CA that signed the
// server's certificate and, when redis asks clients for one, a client
// certificate and key. Paths are inside the container.
type RedisTLS struct {
	Port, CACert, Cert, Key string
}

// cliArgs are redis-cli's connection options for t.
func (t *RedisTLS) cliArgs() []string {
	if t == nil {
		return nil
	}
	args := []string{"--tls", "-p", t.Port}
	if t.CACert != "" {
		args = append(args, "--cacert", t.CACert)
	}
	if t.Cert != "" && t.Key != "" {
		args = append(args, "--cert", t.Cert, "--key", t.Key)
	}
	return args
}

// RedisTLSFromCommand reads redis-server's TLS options from a container's
// command (entrypoint then command; also `sh -c "exec redis-server …"`, as
// in CDB's tls.yml and cdb-setup's overlay). It is nil when redis keeps a
// plain-text port (no --port 0), which redis-cli's default reaches. The
// client certificate is the one cdb-setup's overlay mounts next to the CA
// (client.crt, client.key), used only when redis requires one
// (--tls-auth-clients is neither no nor optional).
func RedisTLSFromCommand(command []string) *RedisTLS {
	words := strings.Fields(strings.Join(command, " "))
	opt := map[string]string{}
	for i := 0; i+1 < len(words); i++ {
		if strings.HasPrefix(words[i], "--") {
			opt[words[i]] = strings.Trim(words[i+1], `"'`)
		}
	}
	if opt["--port"] != "0" || opt["--tls-port"] == "" {
		return nil
	}
	t := &RedisTLS{Port: opt["--tls-port"], CACert: opt["--tls-ca-cert-file"]}
	switch opt["--tls-auth-clients"] {
	case "no", "optional":
	default:
		if t.CACert != "" {
			dir := path.Dir(t.CACert)
			t.Cert, t.Key = path.Join(dir, "client.crt"), path.Join(dir, "client.key")
		}
	}
	return t
}

// Save authenticates with password and runs SAVE, through redis-cli's
// stdin (commands read from a pipe), so the password is in no argv.
func (r Redis) Save(ctx context.Context, password []byte) error {
	in := "AUTH " + respQuote(string(password)) + "\nSAVE\n"
	res, err := run(ctx, r.API, r.Container, append([]string{"redis-cli"}, r.TLS.cliArgs()...), []byte(in))
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
