// Command fakesvc is a stand-in for the CDB services in tests and in the demo
// stack: the CI machine has a Docker Engine but no registry, so every image is
// built locally FROM scratch around this one static binary.
//
// It is configured only through environment variables, so one image serves
// every role; the compose file decides the behaviour:
//
//	FAKE_MODE          healthy (default) | never-healthy | crash | oneshot | postgres | redis | grafana
//	FAKE_HEALTHY_AFTER duration before /health says ok (e.g. 2s)
//	FAKE_CRASH_AFTER   with crash: how long to run before exiting 1
//	FAKE_RUN_FOR       with oneshot: how long the task runs before exiting 0
//	FAKE_HTTP_PORT     health and API port inside the container (default 8080)
//	FAKE_PASSWORD_FILE the secret this service authenticates with
//	FAKE_DATA_DIR      a volume: the password is stored there on first start and
//	                   checked on every later one, like postgres and Grafana do
//	FAKE_PROBE_LOGIN   0: the probe passes even when the password is wrong
//	                   (pg_isready proves nothing about the password)
//	FAKE_SECRET_FILES  comma-separated files that must be readable at start
//	FAKE_PG_PORT       postgres mode: wire-protocol port (default 5432)
//	FAKE_REDIS_PORT    redis mode: RESP port (default 6379)
//	FAKE_PG_USER       postgres mode: the user name (default claire_user)
//
// Grafana has no Debian package, so tests use this fake for it. Like
// Grafana, grafana mode keeps the admin password in its data directory
// after the first start and checks every login against the stored one; and
// installed as /bin/grafana it answers `grafana cli admin
// reset-admin-password --password-from-stdin` (also as grafana-cli) by
// storing the line it reads on stdin, as the real CLI writes Grafana's
// database.
//
// `fakesvc probe` is the exec-form HEALTHCHECK: it asks the running service's
// /health and prints the answer, so the probe output shown by cdb-setup is
// the service's own reason.
package main

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

func main() {
	// Installed as /bin/test too (in the e2e image), it answers `test -r
	// FILE` so cdb-setup's in-container readability check runs for real:
	// the kernel decides, as the container's user.
	if filepath.Base(os.Args[0]) == "test" {
		if len(os.Args) == 3 && os.Args[1] == "-r" {
			f, err := os.Open(os.Args[2])
			if err != nil {
				os.Exit(1)
			}
			f.Close()
			os.Exit(0)
		}
		os.Exit(2)
	}
	if b := filepath.Base(os.Args[0]); b == "grafana" || b == "grafana-cli" {
		os.Exit(grafanaCLI(os.Args[1:]))
	}
	if len(os.Args) > 1 && os.Args[1] == "probe" {
		os.Exit(probe())
	}
	if err := run(); err != nil {
		fmt.Fprintf(os.Stderr, "fatal: %v\n", err)
		os.Exit(1)
	}
}

func env(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

func probe() int {
	c := &http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get("http://127.0.0.1:" + env("FAKE_HTTP_PORT", "8080") + "/health")
	if err != nil {
		fmt.Println("probe: service not answering:", err)
		return 1
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	fmt.Print(string(b))
	if resp.StatusCode != http.StatusOK {
		return 1
	}
	return 0
}

// state is what /health reports.
type state struct {
	mu       sync.Mutex
	start    time.Time
	after    time.Duration
	problem  string // non-empty: unhealthy for this reason
	password string // the password the service accepts ("" = none needed)
}

func (s *state) health() (bool, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.problem != "" {
		return false, s.problem
	}
	if el := time.Since(s.start); el < s.after {
		return false, fmt.Sprintf("starting: %.1fs of %s", el.Seconds(), s.after)
	}
	return true, "ok"
}

func run() error {
	mode := env("FAKE_MODE", "healthy")
	st := &state{start: time.Now()}
	if d := os.Getenv("FAKE_HEALTHY_AFTER"); d != "" {
		after, err := time.ParseDuration(d)
		if err != nil {
			return fmt.Errorf("FAKE_HEALTHY_AFTER: %w", err)
		}
		st.after = after
	}
	fmt.Printf("fakesvc starting: mode=%s uid=%d\n", mode, os.Getuid())

	// Grafana's entrypoint refuses X and X__FILE together (docs/up.md, password-and-file);
	// the fake does the same for any variable so the diagnosis can be tested.
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if base, ok := strings.CutSuffix(k, "__FILE"); ok {
			if v := os.Getenv(base); v != "" && os.Getenv(k) != "" {
				return fmt.Errorf("ERROR: Both %s and %s are set (but are exclusive)", base, k)
			}
		}
	}

	// Apps `cat` their secrets at start: an unreadable file is fatal.
	for _, f := range strings.Split(os.Getenv("FAKE_SECRET_FILES"), ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		if _, err := os.ReadFile(f); err != nil {
			return fmt.Errorf("read secret: %v", err)
		}
	}

	if mode == "oneshot" {
		// A migration takes a while; FAKE_RUN_FOR says how long.
		d, _ := time.ParseDuration(env("FAKE_RUN_FOR", "0s"))
		time.Sleep(d)
		fmt.Println("one-shot task finished")
		return nil
	}
	if mode == "crash" {
		d, _ := time.ParseDuration(env("FAKE_CRASH_AFTER", "0s"))
		time.Sleep(d)
		return errors.New("simulated crash: cannot connect to upstream")
	}
	if mode == "never-healthy" {
		st.problem = "dependency check failed: upstream unavailable (simulated)"
	}

	if pf := os.Getenv("FAKE_PASSWORD_FILE"); pf != "" {
		b, err := os.ReadFile(pf)
		if err != nil {
			return fmt.Errorf("read password: %v", err)
		}
		given := string(b)
		st.password = given
		if dir := os.Getenv("FAKE_DATA_DIR"); dir != "" {
			stored, err := storedPassword(dir, given)
			if err != nil {
				return err
			}
			// Like postgres: the volume's password wins; the file's one is
			// what clients (and a login probe) use.
			st.password = stored
			if stored != given {
				user := env("FAKE_PG_USER", "claire_user")
				msg := fmt.Sprintf("FATAL:  password authentication failed for user %q", user)
				fmt.Println(msg)
				if os.Getenv("FAKE_PROBE_LOGIN") != "0" {
					st.problem = msg
				}
			}
		}
	}

	switch mode {
	case "postgres":
		go servePG(st, env("FAKE_PG_PORT", "5432"), env("FAKE_PG_USER", "claire_user"))
	case "redis":
		go serveRedis(st, env("FAKE_REDIS_PORT", "6379"))
	}

	mux := http.NewServeMux()
	mux.HandleFunc("/health", func(w http.ResponseWriter, r *http.Request) {
		ok, msg := st.health()
		if !ok {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
		fmt.Fprintln(w, msg)
	})
	mux.HandleFunc("/api/user", func(w http.ResponseWriter, r *http.Request) {
		u, p, ok := r.BasicAuth()
		if !ok || u != "admin" || p != st.current(mode) {
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprintln(w, `{"message":"invalid username or password"}`)
			return
		}
		fmt.Fprintln(w, `{"login":"admin","isGrafanaAdmin":true}`)
	})
	return http.ListenAndServe(":"+env("FAKE_HTTP_PORT", "8080"), mux)
}

// current is the password a login must give: in grafana mode the one in
// the data directory now (the CLI may have changed it), else the one read
// at start.
func (s *state) current(mode string) string {
	if dir := os.Getenv("FAKE_DATA_DIR"); mode == "grafana" && dir != "" {
		if b, err := os.ReadFile(filepath.Join(dir, "password")); err == nil {
			return string(b)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.password
}

// grafanaCLI is the fake `grafana cli admin reset-admin-password
// --password-from-stdin`: the only form cdb-setup uses (never the password
// as an argument).
func grafanaCLI(args []string) int {
	if len(args) > 0 && args[0] == "cli" {
		args = args[1:]
	}
	if len(args) != 3 || args[0] != "admin" || args[1] != "reset-admin-password" || args[2] != "--password-from-stdin" {
		fmt.Fprintln(os.Stderr, "fake grafana cli: only `admin reset-admin-password --password-from-stdin` is emulated")
		return 2
	}
	dir := os.Getenv("FAKE_DATA_DIR")
	if dir == "" {
		fmt.Fprintln(os.Stderr, "fake grafana cli: no FAKE_DATA_DIR (no database)")
		return 1
	}
	sc := bufio.NewScanner(os.Stdin)
	if !sc.Scan() {
		fmt.Fprintln(os.Stderr, "can't read password from stdin")
		return 1
	}
	pw := sc.Text()
	if len(pw) < 4 {
		fmt.Fprintln(os.Stderr, "new password is too short")
		return 1
	}
	if err := os.WriteFile(filepath.Join(dir, "password"), []byte(pw), 0o600); err != nil {
		fmt.Fprintln(os.Stderr, "failed to update user password:", err)
		return 1
	}
	fmt.Println("Admin password changed successfully ✔")
	return 0
}

// storedPassword returns the password kept in dir, storing given on first start.
func storedPassword(dir, given string) (string, error) {
	p := filepath.Join(dir, "password")
	b, err := os.ReadFile(p)
	if err == nil {
		return string(b), nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return "", err
	}
	if err := os.WriteFile(p, []byte(given), 0o600); err != nil {
		return "", fmt.Errorf("initialise data directory: %v", err)
	}
	fmt.Println("data directory initialised with the current password")
	return given, nil
}

// servePG speaks just enough of the postgres wire protocol for a client to log
// in with a cleartext password: SSLRequest → 'N', startup, password, then
// AuthenticationOk + ReadyForQuery, or the same FATAL postgres sends. It is
// not PostgreSQL: the login check's SCRAM-SHA-256 path and the server's own
// messages are tested against the real PostgreSQL 15 image
// (internal/stack/realserver_test.go); this fake serves the demo and the
// Engine-level e2e cases.
func servePG(st *state, port, user string) {
	serveTCP("postgres", port, func(c net.Conn) { pgSession(c, st, user) })
}

// serveTCP accepts connections on port and runs session for each, bounded
// to 10 s so a stuck client cannot pin the fake service.
func serveTCP(name, port string, session func(net.Conn)) {
	ln, err := net.Listen("tcp", ":"+port)
	if err != nil {
		fmt.Fprintln(os.Stderr, name+" listen:", err)
		os.Exit(1)
	}
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		go func() {
			defer c.Close()
			_ = c.SetDeadline(time.Now().Add(10 * time.Second))
			session(c)
		}()
	}
}

func pgSession(c net.Conn, st *state, user string) {
	var params map[string]string
	for {
		var n uint32
		if binary.Read(c, binary.BigEndian, &n) != nil || n < 8 || n > 10000 {
			return
		}
		body := make([]byte, n-4)
		if _, err := io.ReadFull(c, body); err != nil {
			return
		}
		code := binary.BigEndian.Uint32(body[:4])
		if code == 80877103 || code == 80877104 { // SSLRequest, GSSENCRequest
			_, _ = c.Write([]byte{'N'})
			continue
		}
		params = map[string]string{}
		parts := strings.Split(string(body[4:]), "\x00")
		for i := 0; i+1 < len(parts); i += 2 {
			params[parts[i]] = parts[i+1]
		}
		break
	}
	_, _ = c.Write(pgMsg('R', []byte{0, 0, 0, 3})) // AuthenticationCleartextPassword
	r := bufio.NewReader(c)
	t, err := r.ReadByte()
	if err != nil || t != 'p' {
		return
	}
	var n uint32
	if binary.Read(r, binary.BigEndian, &n) != nil || n < 4 || n > 10000 {
		return
	}
	body := make([]byte, n-4)
	if _, err := io.ReadFull(r, body); err != nil {
		return
	}
	pw := strings.TrimSuffix(string(body), "\x00")
	if params["user"] != user || pw != st.password {
		msg := fmt.Sprintf("password authentication failed for user %q", params["user"])
		fmt.Println("FATAL: ", msg)
		f := "SFATAL\x00VFATAL\x00C28P01\x00M" + msg + "\x00\x00"
		_, _ = c.Write(pgMsg('E', []byte(f)))
		return
	}
	_, _ = c.Write(pgMsg('R', []byte{0, 0, 0, 0}))
	_, _ = c.Write(pgMsg('S', []byte("server_version\x0015.0\x00")))
	_, _ = c.Write(pgMsg('K', []byte{0, 0, 0, 1, 0, 0, 0, 2}))
	_, _ = c.Write(pgMsg('Z', []byte{'I'}))
	// Wait for Terminate (or anything) and close.
	_, _ = r.ReadByte()
}

func pgMsg(t byte, body []byte) []byte {
	b := make([]byte, 5, 5+len(body))
	b[0] = t
	binary.BigEndian.PutUint32(b[1:], uint32(4+len(body)))
	return append(b, body...)
}

// serveRedis answers AUTH and PING in RESP, enough for redis-cli and the
// functional check.
func serveRedis(st *state, port string) {
	serveTCP("redis", port, func(c net.Conn) { redisSession(c, st) })
}

func redisSession(c net.Conn, st *state) {
	r := bufio.NewReader(c)
	authed := st.password == ""
	for {
		args, err := readRESP(r)
		if err != nil {
			return
		}
		switch strings.ToUpper(args[0]) {
		case "AUTH":
			pw := args[len(args)-1]
			if len(args) >= 2 && pw == st.password {
				authed = true
				_, _ = c.Write([]byte("+OK\r\n"))
			} else {
				_, _ = c.Write([]byte("-WRONGPASS invalid username-password pair or user is disabled.\r\n"))
			}
		case "PING":
			if !authed {
				_, _ = c.Write([]byte("-NOAUTH Authentication required.\r\n"))
			} else {
				_, _ = c.Write([]byte("+PONG\r\n"))
			}
		case "QUIT":
			_, _ = c.Write([]byte("+OK\r\n"))
			return
		default:
			_, _ = c.Write([]byte("-ERR unknown command\r\n"))
		}
	}
}

func readRESP(r *bufio.Reader) ([]string, error) {
	line, err := r.ReadString('\n')
	if err != nil {
		return nil, err
	}
	line = strings.TrimRight(line, "\r\n")
	if !strings.HasPrefix(line, "*") {
		f := strings.Fields(line) // inline command
		if len(f) == 0 {
			return nil, errors.New("empty command")
		}
		return f, nil
	}
	n, err := strconv.Atoi(line[1:])
	if err != nil || n < 1 || n > 64 {
		return nil, errors.New("bad array")
	}
	args := make([]string, 0, n)
	for i := 0; i < n; i++ {
		h, err := r.ReadString('\n')
		if err != nil {
			return nil, err
		}
		l, err := strconv.Atoi(strings.TrimRight(h, "\r\n")[1:])
		if err != nil || l < 0 || l > 1<<16 {
			return nil, errors.New("bad bulk string")
		}
		b := make([]byte, l+2)
		if _, err := io.ReadFull(r, b); err != nil {
			return nil, err
		}
		args = append(args, string(b[:l]))
	}
	return args, nil
}
