package stack

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"
)

// untilAnswered repeats connection-level failures, stops at once on anything
// else (a refused password above all), and says how long it tried.
func TestUntilAnsweredRetriesOnlyConnectionFailures(t *testing.T) {
	ctx := context.Background()
	n := 0
	err := untilAnswered(ctx, func(context.Context) error {
		n++
		if n < 3 {
			return notYet{io.EOF}
		}
		return nil
	})
	if err != nil || n != 3 {
		t.Errorf("after two EOFs: err %v, %d attempts, want success on the 3rd", err, n)
	}

	n = 0
	err = untilAnswered(ctx, func(context.Context) error {
		n++
		return errRefused
	})
	if !errors.Is(err, errRefused) || n != 1 {
		t.Errorf("refused password: err %v after %d attempts, want errRefused after 1", err, n)
	}

	n = 0
	err = untilAnswered(ctx, func(context.Context) error {
		n++
		return errors.New("database \"x\" does not exist")
	})
	if err == nil || n != 1 {
		t.Errorf("a server error: err %v after %d attempts, want it after 1", err, n)
	}

	bctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	err = untilAnswered(bctx, func(context.Context) error { return notYet{errors.New("connection reset by peer")} })
	if err == nil || !strings.Contains(err.Error(), "connection reset by peer") || !strings.Contains(err.Error(), "still failing after") {
		t.Errorf("budget spent: %v", err)
	}
	if errors.Is(err, errRefused) {
		t.Errorf("a connection failure must never read as a refused password: %v", err)
	}
}

func TestRedisAuthErrorsAreRecognised(t *testing.T) {
	for line, want := range map[string]bool{
		"-WRONGPASS invalid username-password pair or user is disabled.": true,
		"-ERR invalid password": true,
		"-ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?": true,
		"-LOADING Redis is loading the dataset in memory": false,
		"-ERR max number of clients reached":              false,
	} {
		if got := isRedisAuthError(line); got != want {
			t.Errorf("%q: auth error %v, want %v", line, got, want)
		}
	}
}
