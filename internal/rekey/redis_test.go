package rekey

import (
	"reflect"
	"strings"
	"testing"
)

// The shapes a redis command takes: CDB's tls.yml (one folded string run by
// the image's entrypoint), cdb-setup's overlay (sh -c "exec redis-server …"
// with the password from its secret file), and base.yml without TLS.
func TestRedisTLSFromCommand(t *testing.T) {
	tlsYML := strings.Fields(`redis-server --appendonly yes --maxmemory 256mb --requirepass $${REDIS_PASSWORD}
		--tls-port 6379 --port 0 --tls-cert-file /tls/redis.crt --tls-key-file /tls/redis.key
		--tls-ca-cert-file /tls/ca.crt --tls-auth-clients optional --tls-replication yes`)
	overlay := []string{"docker-entrypoint.sh", "sh", "-c", `exec redis-server --appendonly yes --requirepass "$(cat /run/secrets/redis_password)" --tls-port 6380 --port 0 --tls-cert-file /tls/redis.crt --tls-key-file /tls/redis.key --tls-ca-cert-file '/tls/ca.crt'`}
	for _, tc := range []struct {
		name string
		cmd  []string
		want *RedisTLS
	}{
		{"tls.yml", tlsYML, &RedisTLS{Port: "6379", CACert: "/tls/ca.crt"}},
		// --tls-auth-clients defaults to yes: redis-cli needs a client certificate.
		{"overlay", overlay, &RedisTLS{Port: "6380", CACert: "/tls/ca.crt", Cert: "/tls/client.crt", Key: "/tls/client.key"}},
		{"plain", []string{"sh", "-c", `exec redis-server --requirepass "$(cat /run/secrets/redis_password)"`}, nil},
		// Both ports: the plain one is still there for redis-cli.
		{"both", []string{"redis-server", "--tls-port", "6380", "--port", "6379"}, nil},
		{"empty", nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := RedisTLSFromCommand(tc.cmd)
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
		})
	}
	got := (&RedisTLS{Port: "6379", CACert: "/tls/ca.crt", Cert: "/tls/client.crt", Key: "/tls/client.key"}).cliArgs()
	want := []string{"--tls", "-p", "6379", "--cacert", "/tls/ca.crt", "--cert", "/tls/client.crt", "--key", "/tls/client.key"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("cliArgs: %q", got)
	}
	if (*RedisTLS)(nil).cliArgs() != nil {
		t.Error("no TLS: redis-cli's defaults")
	}
}

// The command comes from the user's compose files: any text parses without
// a panic, and a TLS answer always names the port redis-cli must use.
func FuzzRedisTLSFromCommand(f *testing.F) {
	f.Add("redis-server --tls-port 6379 --port 0 --tls-ca-cert-file /tls/ca.crt")
	f.Add(`sh -c "exec redis-server --port 0 --tls-port"`)
	f.Add("--port 0 --tls-port '' --tls-auth-clients")
	f.Fuzz(func(t *testing.T, cmd string) {
		got := RedisTLSFromCommand(strings.Split(cmd, "\x00"))
		if got != nil && got.Port == "" {
			t.Fatalf("%q: TLS without a port", cmd)
		}
	})
}
