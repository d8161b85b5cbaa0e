package connector

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"testing"
)

func inProcess(t *testing.T, impl Connector) Connector { return InProcess(t, impl) }

func TestGRPCDescribeCheck(t *testing.T) {
	c := inProcess(t, &fake{})
	ctx := context.Background()
	d, err := c.Describe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if d.Name != "fake" || !d.Can(CapPush) || !d.Can(CapPull) || string(d.ConfigSchema) != `{"type":"object"}` ||
		len(d.Secrets) != 1 || d.Secrets[0] != (SecretSpec{Name: "token", Description: "API-Token", Required: true}) {
		t.Fatalf("Describe = %+v", d)
	}

	r, err := c.Check(ctx, Config{Settings: json.RawMessage(`{}`), Secrets: map[string]Secret{"token": "geheim"}})
	if err != nil || !r.OK || r.Message != "Verbindung steht." {
		t.Fatalf("Check with the right token = %+v, %v", r, err)
	}
	r, err = c.Check(ctx, Config{Secrets: map[string]Secret{"token": "falsch"}})
	if err != nil || r.OK || len(r.Problems) != 1 || r.Problems[0].Field != "token" {
		t.Fatalf("Check with a wrong token = %+v, %v", r, err)
	}
	_, err = c.Check(ctx, Config{Settings: json.RawMessage(`{"fail":true}`)})
	var remote *RemoteError
	if !errors.As(err, &remote) || remote.Message != "Prüfung abgebrochen: Testfehler" {
		t.Fatalf("Check that fails = %v, want the connector's message", err)
	}
}

func TestGRPCPullSplitsIntoBatches(t *testing.T) {
	c := inProcess(t, &fake{n: 1234})
	var sizes []int
	var got []Record
	err := c.Pull(context.Background(), Config{}, func(b []Record) error {
		sizes = append(sizes, len(b))
		got = append(got, b...)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(sizes, []int{500, 500, 234}) {
		t.Fatalf("batch sizes %v, want 500, 500, 234", sizes)
	}
	for i, r := range got {
		if want := fakeRecord(i); !reflect.DeepEqual(r, want) {
			t.Fatalf("record %d came over as\n%+v\nwant\n%+v", i, r, want)
		}
	}
}

func TestGRPCPullStopsWhenEmitFails(t *testing.T) {
	c := inProcess(t, &fake{n: 5000})
	stop := errors.New("host has had enough")
	n := 0
	err := c.Pull(context.Background(), Config{}, func(b []Record) error {
		n++
		return stop
	})
	if !errors.Is(err, stop) || n != 1 {
		t.Fatalf("Pull = %v after %d batches, want the host's error after 1", err, n)
	}
}

func TestGRPCPush(t *testing.T) {
	f := &fake{}
	c := inProcess(t, f)
	changes := []Change{
		{SourceKey: "K1", CIID: "ci-1", Identifiers: Identifiers{Serial: "SN1"}, Fields: map[string]string{"room": "1.16"},
			Status: "in use", Location: Location{SchoolCode: "GYN", Room: "1.16"}},
		{SourceKey: "K2", CIID: "ci-2"},
	}
	r, err := c.Push(context.Background(), Config{}, changes)
	if err != nil {
		t.Fatal(err)
	}
	if r.Applied != 1 || len(r.Failures) != 1 || r.Failures[0] != (PushFailure{SourceKey: "K2", Message: "Seriennummer fehlt"}) {
		t.Fatalf("Push = %+v", r)
	}
	if !reflect.DeepEqual(f.pushed[0], changes[0]) {
		t.Fatalf("connector got %+v, want %+v", f.pushed[0], changes[0])
	}

	_, err = inProcess(t, &faulty{}).Push(context.Background(), Config{}, changes)
	if !errors.Is(err, ErrUnsupported) {
		t.Fatalf("Push on a pull-only connector = %v, want ErrUnsupported", err)
	}
}

// expecting announces its total before it emits, as the csv connector does.
type expecting struct {
	fake
	total int
}

func (e *expecting) Pull(ctx context.Context, cfg Config, emit func([]Record) error) error {
	ExpectTotal(ctx, e.total)
	return e.fake.Pull(ctx, cfg, emit)
}

// TestGRPCPullExpectedTotal: the total a connector announces reaches the
// host's ExpectTotal once, before the first batch; one that announces
// nothing leaves it unknown.
func TestGRPCPullExpectedTotal(t *testing.T) {
	for _, total := range []int{0, 1234} {
		c := inProcess(t, &expecting{fake: fake{n: 1234}, total: total})
		var calls []int
		batches := 0
		ctx := WithExpectTotal(context.Background(), func(n int) { calls = append(calls, n) })
		err := c.Pull(ctx, Config{}, func(b []Record) error {
			if batches == 0 && total > 0 && len(calls) != 1 {
				t.Errorf("total %d: the first batch came before the total", total)
			}
			batches++
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if want := []int{total}; total == 0 && len(calls) != 0 || total > 0 && !reflect.DeepEqual(calls, want) {
			t.Errorf("announced %d, the host heard %v", total, calls)
		}
	}
}
