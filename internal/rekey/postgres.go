package rekey

import (
	"context"
	"errors"
	"fmt"
	"net"
	"regexp"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/claire-de-binare/cdb-setup/internal/scram"
)

// Postgres is a role in a running PostgreSQL container, reached through
// psql on the container's local socket. The official image's initdb leaves
// local connections on trust, so no password is needed there. Where they
// are not trusted, cdb-setup never passes a password through argv or the
// environment: it logs in over TCP itself with the current password when it
// has one (Address, Password), else stops with ErrLocalNotTrusted.
type Postgres struct {
	API       API
	Container string
	// User is the role (POSTGRES_USER, the image's superuser); Database is
	// the database psql connects to.
	User, Database string
	// Address and Password, when set, are the fallback where the local
	// socket is not trusted: a TCP login (SCRAM, from this process) with
	// the role's current password, held in memory only.
	Address  string
	Password []byte
}

// ErrLocalNotTrusted: psql on the local socket asked for a password.
var ErrLocalNotTrusted = errors.New("postgres does not trust its local socket")

// verifierRe is the only text ever interpolated into SQL: a verifier made
// of base64, digits and separators, so quoting cannot break.
var verifierRe = regexp.MustCompile(`^SCRAM-SHA-256\$[0-9]+:[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+$`)

// psql runs sql (stdin) as User on the local socket and returns stdout.
// sql never holds a plain password; errors never repeat it.
func (p Postgres) psql(ctx context.Context, sql string) (string, error) {
	// -w: never prompt (a prompt would read the SQL on stdin as a password).
	cmd := []string{"psql", "-X", "-w", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-U", p.User, "-d", p.Database}
	r, err := run(ctx, p.API, p.Container, cmd, []byte(sql))
	if err != nil {
		return "", err
	}
	if r.Code != 0 {
		msg := firstLine(r.Stderr)
		if strings.Contains(msg, "no password supplied") || strings.Contains(msg, "password authentication failed") || strings.Contains(msg, "Peer authentication failed") {
			return "", fmt.Errorf("%w (psql -U %s on the local socket: %s)", ErrLocalNotTrusted, p.User, msg)
		}
		return "", fmt.Errorf("psql in the postgres container exited %d: %s", r.Code, msg)
	}
	return r.Stdout, nil
}

// query runs sql on the local socket, or over TCP with the current
// password when the socket is not trusted and a fallback is set.
func (p Postgres) query(ctx context.Context, sql string) (string, error) {
	out, err := p.psql(ctx, sql)
	if errors.Is(err, ErrLocalNotTrusted) && p.Address != "" && len(p.Password) > 0 {
		return p.tcp(ctx, sql)
	}
	return out, err
}

// tcp runs sql over a TCP login as User with Password and returns the
// first column of the first row ("" when there is none). The config is
// built without the password in any string.
func (p Postgres) tcp(ctx context.Context, sql string) (string, error) {
	host, port, err := net.SplitHostPort(p.Address)
	if err != nil {
		return "", fmt.Errorf("address %q: %v", p.Address, err)
	}
	cfg, err := pgconn.ParseConfig(fmt.Sprintf("host=%s port=%s user=%s dbname=%s sslmode=prefer connect_timeout=10", host, port, connQuote(p.User), connQuote(p.Database)))
	if err != nil {
		return "", err
	}
	cfg.Password = string(p.Password)
	conn, err := pgconn.ConnectConfig(ctx, cfg)
	if err != nil {
		var pe *pgconn.PgError
		if errors.As(err, &pe) {
			return "", fmt.Errorf("log in to postgres on %s as %s: %s (%s)", p.Address, p.User, pe.Message, pe.Code)
		}
		return "", fmt.Errorf("log in to postgres on %s: %v", p.Address, err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	res, err := conn.Exec(ctx, sql).ReadAll()
	if err != nil {
		var pe *pgconn.PgError
		if errors.As(err, &pe) {
			return "", fmt.Errorf("postgres: %s (%s)", pe.Message, pe.Code)
		}
		return "", err
	}
	for _, r := range res {
		if r.Err != nil {
			return "", r.Err
		}
		if len(r.Rows) > 0 && len(r.Rows[0]) > 0 {
			return string(r.Rows[0][0]), nil
		}
	}
	return "", nil
}

func connQuote(s string) string {
	if s == "" {
		return "''"
	}
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

// Verifier reads the role's password verifier from pg_authid (needs a
// superuser, which POSTGRES_USER is). The verifier stays in memory.
func (p Postgres) Verifier(ctx context.Context) (scram.Verifier, error) {
	out, err := p.query(ctx, "SELECT rolpassword FROM pg_authid WHERE rolname = current_user;\n")
	if err != nil {
		return scram.Verifier{}, err
	}
	v, err := scram.Parse(strings.TrimSpace(out))
	if err != nil {
		return scram.Verifier{}, fmt.Errorf("role %s: %w (password_encryption must be scram-sha-256, the default since PostgreSQL 14)", p.User, err)
	}
	return v, nil
}

// Holds reports whether password is the role's current password, checked
// against the verifier without logging in.
func (p Postgres) Holds(ctx context.Context, password []byte) (bool, error) {
	v, err := p.Verifier(ctx)
	if err != nil {
		return false, err
	}
	return v.Matches(string(password))
}

// SetVerifier makes v the role's password: ALTER ROLE with the verifier,
// so the plain password is never sent. ALTER ROLE takes effect at once for
// new connections; open ones stay logged in.
func (p Postgres) SetVerifier(ctx context.Context, v scram.Verifier) error {
	s := v.String()
	if !verifierRe.MatchString(s) {
		return errors.New("refusing to send a malformed verifier")
	}
	_, err := p.query(ctx, "ALTER ROLE CURRENT_USER PASSWORD '"+s+"';\n")
	if err != nil {
		return fmt.Errorf("change the password of role %s: %w", p.User, err)
	}
	return nil
}

// SetPassword computes a verifier for password and sets it.
func (p Postgres) SetPassword(ctx context.Context, password []byte) error {
	v, err := scram.NewVerifier(string(password))
	if err != nil {
		return err
	}
	return p.SetVerifier(ctx, v)
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}
