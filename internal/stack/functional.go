package stack

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/claire-de-binare/cdb-setup/internal/manifest"
)

// CheckResult is the outcome of one post-start check.
type CheckResult struct {
	ID      string `json:"id"`
	Service string `json:"service"`
	OK      bool   `json:"ok"`
	// Skipped: the check could not run here (Detail says why); not a failure.
	Skipped bool   `json:"skipped,omitempty"`
	Detail  string `json:"detail"`
	Fix     string `json:"fix,omitempty"`
}

// readSecret reads a password exactly as the service gets it (the file's
// bytes). It stays in this process: never in argv, env or output.
func readSecret(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("read %s: %w", path, err)
	}
	return string(b), nil
}

// RunFunctional runs one manifest check against the running stack: a
// healthcheck such as pg_isready passes while the password is wrong, so
// cdb-setup logs in with the password from the file, as the apps do.
// volume is the compose volume that keeps this password ("" if none).
//
// A healthy container is not always ready for logins: while the postgres
// entrypoint runs its init SQL on a temporary socket-only server,
// pg_isready passes and TCP connections are dropped. So connection-level
// failures (refused, reset, EOF, "the database system is starting up",
// redis LOADING) are retried for budget — the service's own readiness
// budget (ContainerBudget); only the service refusing the password is a
// wrong password, and it ends the check at once. budget <= 0 means the
// budget of a service without a healthcheck.
func RunFunctional(ctx context.Context, c manifest.Check, secretPath, rerun, volume string, budget time.Duration) CheckResult {
	return runFunctional(ctx, c, nil, secretPath, rerun, volume, budget)
}

// runFunctional is RunFunctional, over TLS when tc is set (functional_tls.go).
func runFunctional(ctx context.Context, c manifest.Check, tc *TLSClient, secretPath, rerun, volume string, budget time.Duration) CheckResult {
	r := CheckResult{ID: "functional." + c.Kind, Service: c.Service}
	pw, err := readSecret(secretPath)
	if err != nil {
		r.Detail, r.Fix = err.Error(), "cdb-setup secrets init"
		return r
	}
	if budget <= 0 {
		budget = Budget(Healthcheck{})
	}
	ctx, cancel := context.WithTimeout(ctx, budget)
	defer cancel()
	var attempt func(context.Context) error
	switch c.Kind {
	case "postgres-login":
		attempt = func(ctx context.Context) error { return postgresLogin(ctx, c, pw, tc) }
	case "redis-auth":
		attempt = func(ctx context.Context) error { return redisAuth(ctx, c.Address, pw, tc) }
	case "http-basic-auth":
		attempt = func(ctx context.Context) error { return httpBasicAuth(ctx, c, pw) }
	default:
		attempt = func(context.Context) error { return fmt.Errorf("unknown check kind %q", c.Kind) }
	}
	if err := untilAnswered(ctx, attempt); err != nil {
		r.Detail = fmt.Sprintf("%s: %v", c.Service, err)
		switch {
		case errors.Is(err, errRefused) && volume != "":
			r.Fix = fmt.Sprintf("%s keeps another password in the volume %s: `cdb-setup secrets recover` puts back the one it holds (keychain mirror, backup) or changes it inside %s to the file's, keeping the data; last resort, deletes %s and all its data (asks first): `%s --recreate-volume %s`", c.Service, volume, c.Service, volume, rerun, volume)
		case errors.Is(err, errRefused):
			r.Fix = fmt.Sprintf("`cdb-setup secrets check` finds CRLF, BOM or whitespace in %s; if %s was changed while the service ran, restart it: `%s`", c.Secret, c.Secret, rerun)
		case tc != nil && errors.Is(err, errTLS):
			r.Fix = fmt.Sprintf("`cdb-setup tls check` says which certificate is wrong; `cdb-setup tls rotate` issues new ones, then: %s", rerun)
		default:
			r.Fix = fmt.Sprintf("is %s published on %s? check the compose file's ports:, then: %s", c.Service, c.Address, rerun)
		}
		return r
	}
	r.OK = true
	switch c.Kind {
	case "postgres-login":
		r.Detail = fmt.Sprintf("%s: login as %s to %s on %s with the password from %s", c.Service, c.User, c.Database, c.Address, c.Secret)
	case "redis-auth":
		r.Detail = fmt.Sprintf("%s: AUTH on %s with the password from %s", c.Service, c.Address, c.Secret)
	default:
		r.Detail = fmt.Sprintf("%s: GET %s as %s with the password from %s", c.Service, c.Path, c.User, c.Secret)
	}
	if tc != nil && c.Kind != "http-basic-auth" {
		r.Detail += fmt.Sprintf(" over TLS (%s %s)", tc.mode(c.Kind), tc.CAFile)
	}
	return r
}

// ContainerBudget is how long a login check may wait for a container: the
// readiness budget of its healthcheck (image or compose), as the waiter uses.
func ContainerBudget(ci container.InspectResponse) time.Duration {
	return Budget(healthcheckOf(ci))
}

var errRefused = errors.New("the password from the secret file was refused")

// notYet marks a connection-level failure: the service does not answer
// logins yet, so the attempt is worth repeating.
type notYet struct{ error }

func (e notYet) Unwrap() error { return e.error }

// untilAnswered runs attempt until it succeeds or fails for a reason other
// than notYet, or ctx ends; each attempt gets at most 10 s. The last
// connection-level error is returned with how long it was tried.
func untilAnswered(ctx context.Context, attempt func(context.Context) error) error {
	start := time.Now()
	delay := 200 * time.Millisecond
	for {
		actx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err := attempt(actx)
		cancel()
		var ny notYet
		if err == nil || !errors.As(err, &ny) {
			return err
		}
		select {
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return fmt.Errorf("%w (still failing after %s)", err, time.Since(start).Round(time.Second))
			}
			return fmt.Errorf("%w (%v)", err, context.Cause(ctx))
		case <-time.After(delay):
		}
		if delay < 2*time.Second {
			delay *= 2
		}
	}
}

func postgresLogin(ctx context.Context, c manifest.Check, pw string, tc *TLSClient) error {
	host, port, err := net.SplitHostPort(c.Address)
	if err != nil {
		return fmt.Errorf("address %q: %v", c.Address, err)
	}
	// Build the config without the password in any string (a parse error
	// would echo the connection string); the password is set on the struct.
	// pgconn answers whichever password method the server asks for
	// (SCRAM-SHA-256 on a real PostgreSQL 15, md5, cleartext).
	ssl := "sslmode=prefer"
	if tc != nil {
		// verify-full: the certificate must chain to our CA and name the
		// host we dialled; no plain-text fallback.
		ssl = "sslmode=verify-full sslrootcert=" + quoteConn(tc.CAFile)
	}
	cfg, err := pgconn.ParseConfig(fmt.Sprintf("host=%s port=%s user=%s dbname=%s %s connect_timeout=10", host, port, quoteConn(c.User), quoteConn(c.Database), ssl))
	if err != nil {
		return err
	}
	cfg.Password = pw
	conn, err := pgconn.ConnectConfig(ctx, cfg)
	if err != nil {
		var pgErr *pgconn.PgError
		isPg := errors.As(err, &pgErr)
		switch {
		case isPg && pgErr.Code == "28P01" || strings.Contains(err.Error(), "password authentication failed"):
			return fmt.Errorf("%w: postgres says password authentication failed for user %s", errRefused, c.User)
		case isPg && (pgErr.Code == "57P03" || pgErr.Code == "57P01"):
			// cannot_connect_now: "the database system is starting up" (or
			// shutting down: the entrypoint's temporary server stopping).
			return notYet{fmt.Errorf("connect to %s: %s", c.Address, pgErr.Message)}
		case isPg:
			return fmt.Errorf("connect to %s: %v", c.Address, err)
		case tc != nil && isTLSError(err):
			return fmt.Errorf("%w: connect to %s: %s", errTLS, c.Address, Shorten(err.Error(), 400))
		}
		// No answer from the server itself: refused, reset, EOF, timeout.
		// (pgconn lists one line per attempt: shown on one line.)
		return notYet{fmt.Errorf("connect to %s: %s", c.Address, Shorten(err.Error(), 400))}
	}
	return conn.Close(ctx)
}

func quoteConn(s string) string {
	if s == "" {
		return "''"
	}
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

func redisAuth(ctx context.Context, addr, pw string, tc *TLSClient) error {
	conn, err := dialRedis(ctx, addr, tc)
	if err != nil {
		return err
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	// One RESP array: AUTH <password>. Bulk strings carry any byte.
	cmd := fmt.Sprintf("*2\r\n$4\r\nAUTH\r\n$%d\r\n%s\r\n*1\r\n$4\r\nPING\r\n", len(pw), pw)
	if _, err := conn.Write([]byte(cmd)); err != nil {
		return notYet{fmt.Errorf("send AUTH to %s: %v", addr, err)}
	}
	r := bufio.NewReader(conn)
	line, err := r.ReadString('\n')
	if err != nil {
		return notYet{fmt.Errorf("read AUTH reply from %s: %v", addr, err)}
	}
	line = strings.TrimSpace(line)
	switch {
	case strings.HasPrefix(line, "+OK"):
	case isRedisAuthError(line):
		return fmt.Errorf("%w: redis answered %s", errRefused, Shorten(line, 80))
	case strings.HasPrefix(line, "-LOADING"):
		return notYet{fmt.Errorf("redis on %s answered %s", addr, Shorten(line, 80))}
	default:
		return fmt.Errorf("AUTH on %s answered %s", addr, Shorten(line, 80))
	}
	line, err = r.ReadString('\n')
	line = strings.TrimSpace(line)
	switch {
	case err != nil:
		return notYet{fmt.Errorf("read PING reply from %s: %v", addr, err)}
	case strings.HasPrefix(line, "-LOADING"):
		// AUTH is allowed while redis loads its dataset; PING is not.
		return notYet{fmt.Errorf("redis on %s answered %s", addr, Shorten(line, 80))}
	case !strings.HasPrefix(line, "+PONG"):
		return fmt.Errorf("PING after AUTH answered %q", Shorten(line, 80))
	}
	return nil
}

// isRedisAuthError: the replies of a redis that refuses the password
// (WRONGPASS since 6.0, "invalid password" before), or that has no password
// at all, so the file's one is not the one it runs with.
func isRedisAuthError(line string) bool {
	return strings.HasPrefix(line, "-WRONGPASS") || strings.Contains(line, "invalid password") ||
		strings.Contains(line, "without any password configured")
}

func httpBasicAuth(ctx context.Context, c manifest.Check, pw string) error {
	url := "http://" + c.Address + c.Path
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	req.SetBasicAuth(c.User, pw)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return notYet{fmt.Errorf("GET %s: %v", url, err)}
	}
	resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return fmt.Errorf("%w: GET %s as %s answered %s", errRefused, c.Path, c.User, resp.Status)
	case resp.StatusCode == http.StatusBadGateway || resp.StatusCode == http.StatusServiceUnavailable || resp.StatusCode == http.StatusGatewayTimeout:
		return notYet{fmt.Errorf("GET %s answered %s", url, resp.Status)}
	case resp.StatusCode >= 300:
		return fmt.Errorf("GET %s answered %s", url, resp.Status)
	}
	return nil
}

// ExecAPI is what the in-container readability check needs.
type ExecAPI interface {
	ContainerInspect(ctx context.Context, containerID string) (container.InspectResponse, error)
	ContainerExecCreate(ctx context.Context, containerID string, options container.ExecOptions) (container.ExecCreateResponse, error)
	ContainerExecStart(ctx context.Context, execID string, config container.ExecStartOptions) error
	ContainerExecInspect(ctx context.Context, execID string) (container.ExecInspect, error)
}

// SecretReadability proves that a container's own user can read a mounted
// secret: `test -r` inside the container as that user.
// Images without `test` (FROM scratch) fall back to the host file's owner
// and mode against the container's uid, which is what a native Linux engine
// enforces. An image found to lack `test` is remembered, so its other
// containers skip the failing exec (it costs a runtime start each time).
type SecretReadability struct {
	API    ExecAPI
	mu     sync.Mutex
	noTest map[string]bool // image ID → has no `test`
}

// Check runs the check for one mount of one container.
func (sr *SecretReadability) Check(ctx context.Context, service, containerID string, m SecretMount) CheckResult {
	r := CheckResult{ID: "secret-readable." + m.Name, Service: service}
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	ci, err := sr.API.ContainerInspect(ctx, containerID)
	if err != nil {
		r.Detail = fmt.Sprintf("%s: inspect: %v", service, err)
		return r
	}
	user := ""
	if ci.Config != nil {
		user = ci.Config.User
	}
	who := "root"
	if user != "" {
		who = "user " + user
	}
	sr.mu.Lock()
	skipExec := sr.noTest[ci.Image]
	sr.mu.Unlock()
	if !skipExec {
		code, execErr := execExitCode(ctx, sr.API, containerID, user, []string{"test", "-r", m.Target})
		switch {
		case execErr == nil && code == 0:
			r.OK = true
			r.Detail = fmt.Sprintf("%s can read %s as %s", service, m.Target, who)
			return r
		case execErr == nil && code == 1:
			r.Detail = fmt.Sprintf("%s cannot read %s as %s", service, m.Target, who)
			r.Fix = chmodFix(dirOf(m.Path), m.Path)
			return r
		}
		sr.mu.Lock()
		if sr.noTest == nil {
			sr.noTest = map[string]bool{}
		}
		sr.noTest[ci.Image] = true
		sr.mu.Unlock()
	}
	// No `test` in the image: decide from the host file.
	ok, why, known := hostReadable(m.Path, user)
	switch {
	case !known:
		r.OK, r.Skipped = true, true
		r.Detail = fmt.Sprintf("%s: %s not checked (%s)", service, m.Target, why)
	case ok:
		r.OK = true
		r.Detail = fmt.Sprintf("%s can read %s as %s (%s)", service, m.Target, who, why)
	default:
		r.Detail = fmt.Sprintf("%s cannot read %s as %s (%s)", service, m.Target, who, why)
		r.Fix = chmodFix(dirOf(m.Path), m.Path)
	}
	return r
}

func execExitCode(ctx context.Context, api ExecAPI, id, user string, cmd []string) (int, error) {
	ex, err := api.ContainerExecCreate(ctx, id, container.ExecOptions{User: user, Cmd: cmd})
	if err != nil {
		return -1, err
	}
	if err := api.ContainerExecStart(ctx, ex.ID, container.ExecStartOptions{Detach: true}); err != nil {
		return -1, err
	}
	for {
		in, err := api.ContainerExecInspect(ctx, ex.ID)
		if err != nil {
			return -1, err
		}
		if !in.Running {
			if in.ExitCode == 126 || in.ExitCode == 127 {
				return in.ExitCode, fmt.Errorf("%s is not available in the container", cmd[0])
			}
			return in.ExitCode, nil
		}
		select {
		case <-ctx.Done():
			return -1, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func dirOf(p string) string {
	i := strings.LastIndexAny(p, `/\`)
	if i < 0 {
		return "."
	}
	return p[:i]
}

// Accepts tries one login to the check's service with pw (a candidate
// password held in memory, e.g. a backup's): true when the service
// accepted it, false when it refused it, an error when it could not tell
// (not answering, unknown kind).
func Accepts(ctx context.Context, c manifest.Check, pw string) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	var err error
	switch c.Kind {
	case "postgres-login":
		err = postgresLogin(ctx, c, pw, nil)
	case "redis-auth":
		err = redisAuth(ctx, c.Address, pw, nil)
	case "http-basic-auth":
		err = httpBasicAuth(ctx, c, pw)
	default:
		return false, fmt.Errorf("unknown check kind %q", c.Kind)
	}
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, errRefused):
		return false, nil
	}
	return false, err
}
