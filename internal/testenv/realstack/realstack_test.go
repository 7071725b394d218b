package realstack

import (
	"context"
	"strings"
	"testing"
)

// The fixture starts as written: both services healthy, the schema from
// database/initdb applied, a row kept across a recreation of the container
// (the volume holds it), and the secret values in no compose output.
func TestFixtureStartsAndKeepsARow(t *testing.T) {
	st := New(t, Options{})
	st.Up()
	if got := st.Psql("INSERT INTO trades (symbol, side, quantity, price) VALUES ('BTCUSDT', 'buy', 0.5, 65000) RETURNING id"); got != "1" {
		t.Fatalf("insert: %q", got)
	}
	out, err := st.Compose(context.Background(), "up", "-d", "--wait", "--force-recreate")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if got := st.Psql("SELECT count(*) FROM trades"); got != "1" {
		t.Errorf("after recreating the containers trades has %s rows, want 1", got)
	}
	for name, v := range st.Passwords {
		if strings.Contains(out, v) {
			t.Errorf("compose output shows %s", name)
		}
	}
}
