package stack

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"time"

	"github.com/claire-de-binare/cdb-setup/internal/manifest"
)

// TLSClient is how the functional checks reach servers of the tls overlay:
// the CA they must chain to (cdb-setup's local CA, <secrets>/tls/ca.crt).
type TLSClient struct {
	CAFile string
}

func (tc *TLSClient) mode(kind string) string {
	if kind == "postgres-login" {
		return "sslmode=verify-full against"
	}
	return "certificate and host name verified against"
}

// errTLS marks a failed handshake or verification: the fix is the
// certificates, not the port.
var errTLS = errors.New("TLS")

// RunFunctionalTLS is RunFunctional over TLS: postgres with
// sslmode=verify-full against tc.CAFile, redis AUTH inside a verified TLS
// connection. A refused handshake names the certificate problem.
func RunFunctionalTLS(ctx context.Context, c manifest.Check, tc TLSClient, secretPath, rerun, volume string, budget time.Duration) CheckResult {
	return runFunctional(ctx, c, &tc, secretPath, rerun, volume, budget)
}

func (tc *TLSClient) config(addr string) (*tls.Config, error) {
	b, err := os.ReadFile(tc.CAFile)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		return nil, fmt.Errorf("%s holds no certificate", tc.CAFile)
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	return &tls.Config{RootCAs: pool, ServerName: host, MinVersion: tls.VersionTLS12}, nil
}

// dialRedis connects to redis, with TLS when tc is set. Connection-level
// failures are notYet; a handshake that fails verification is errTLS.
func dialRedis(ctx context.Context, addr string, tc *TLSClient) (net.Conn, error) {
	var d net.Dialer
	if tc == nil {
		conn, err := d.DialContext(ctx, "tcp", addr)
		if err != nil {
			return nil, notYet{fmt.Errorf("connect to %s: %v", addr, err)}
		}
		return conn, nil
	}
	cfg, err := tc.config(addr)
	if err != nil {
		return nil, err
	}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, notYet{fmt.Errorf("connect to %s: %v", addr, err)}
	}
	tconn := tls.Client(conn, cfg)
	if err := tconn.HandshakeContext(ctx); err != nil {
		conn.Close()
		if isTLSError(err) {
			return nil, fmt.Errorf("%w: TLS handshake with %s: %v", errTLS, addr, err)
		}
		return nil, notYet{fmt.Errorf("TLS handshake with %s: %v", addr, err)}
	}
	return tconn, nil
}

// isTLSError: the server answered, and its certificate was not acceptable
// (not ours, wrong name, expired) or it does not speak TLS.
func isTLSError(err error) bool {
	var ua x509.UnknownAuthorityError
	var he x509.HostnameError
	var ci x509.CertificateInvalidError
	var rh tls.RecordHeaderError
	var ve *tls.CertificateVerificationError
	return errors.As(err, &ua) || errors.As(err, &he) || errors.As(err, &ci) || errors.As(err, &rh) || errors.As(err, &ve) ||
		strings.Contains(err.Error(), "server refused TLS connection") || strings.Contains(err.Error(), "certificate")
}

// PlaintextRefused proves a TLS-only redis does not serve plain text on
// the check's address: a RESP PING without TLS must get no RESP answer
// (redis with --port 0 closes the connection after a failed handshake).
func PlaintextRefused(ctx context.Context, c manifest.Check) CheckResult {
	r := CheckResult{ID: "functional.redis-plaintext-refused", Service: c.Service}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", c.Address)
	if err != nil {
		r.Detail = fmt.Sprintf("%s: connect to %s: %v", c.Service, c.Address, err)
		r.Fix = fmt.Sprintf("is %s published on %s?", c.Service, c.Address)
		return r
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := conn.Write([]byte("PING\r\n")); err == nil {
		buf := make([]byte, 64)
		n, _ := conn.Read(buf)
		reply := string(buf[:n])
		if strings.HasPrefix(reply, "+") || strings.HasPrefix(reply, "-") {
			r.Detail = fmt.Sprintf("%s: %s answers plain text (%q): redis is not TLS-only", c.Service, c.Address, Shorten(strings.TrimSpace(reply), 40))
			r.Fix = "the redis command needs --port 0 (plain-text port off) and --tls-port on the published port, as tls.yml has"
			return r
		}
	}
	r.OK = true
	r.Detail = fmt.Sprintf("%s: a plain-text PING on %s gets no answer (TLS only)", c.Service, c.Address)
	return r
}
