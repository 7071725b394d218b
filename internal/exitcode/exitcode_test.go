package exitcode

import (
	"context"
	"errors"
	"fmt"
	"testing"
)

func TestFrom(t *testing.T) {
	cases := []struct {
		err  error
		want int
	}{
		{nil, OK},
		{errors.New("x"), Failed},
		{Usagef("bad flag"), Usage},
		{fmt.Errorf("up: %w", Environmentf("docker is not running")), Environment},
		{fmt.Errorf("wait: %w", context.Canceled), Interrupted},
		{New(Failed, fmt.Errorf("x: %w", context.Canceled)), Failed},
	}
	for _, c := range cases {
		if got := From(c.err); got != c.want {
			t.Errorf("From(%v) = %d, want %d", c.err, got, c.want)
		}
	}
	if New(Usage, nil) != nil {
		t.Error("New(code, nil) must stay nil")
	}
}
