package mail_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/schulit/cmdb/internal/mailtest"
	"github.com/schulit/cmdb/server/cmdb"
	cmdbmail "github.com/schulit/cmdb/server/mail"
	"github.com/schulit/cmdb/server/postgres"
	"github.com/schulit/cmdb/server/postgres/postgrestest"
)

// clock is an injected Now that the test moves.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newClock(db *postgres.DB, t *testing.T) *clock {
	// Start at the database's now, so that freshly queued mail is due.
	var now time.Time
	if err := db.SQL().Get(&now, `SELECT now()`); err != nil {
		t.Fatal(err)
	}
	return &clock{t: now.Add(time.Second)}
}

func enqueue(t *testing.T, db *postgres.DB, key string) *cmdb.OutboundMail {
	t.Helper()
	m := outMail(key)
	m.ID = 0
	added, err := db.EnqueueMail(context.Background(), m)
	if err != nil || !added {
		t.Fatalf("enqueue %s: added=%v err=%v", key, added, err)
	}
	return m
}

func mailByID(t *testing.T, db *postgres.DB, id int64) *cmdb.OutboundMail {
	t.Helper()
	ms, err := db.FindMail(context.Background(), cmdb.AdminScope("test"), cmdb.MailFilter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		if m.ID == id {
			return m
		}
	}
	t.Fatalf("mail %d not in the outbox", id)
	return nil
}

func TestDispatcherRetriesWithBackoffAndDeliversOnce(t *testing.T) {
	ctx := context.Background()
	db := postgrestest.MustOpenDB(t, postgres.Options{})
	r := mailtest.StartRelay(t, "cmdb", relayPassword, false)
	clk := newClock(db, t)
	d := &cmdbmail.Dispatcher{Outbox: db, Sender: newSender(t, config(r, cmdbmail.TLSStartTLS)), Now: clk.Now}
	m := enqueue(t, db, "ticket:42:created")
	r.SetFail(2) // the relay answers 451 twice

	res, err := d.RunOnce(ctx)
	if err != nil || res.Retry != 1 {
		t.Fatalf("first round %+v %v, want one retry", res, err)
	}
	got := mailByID(t, db, m.ID)
	if got.Status != cmdb.MailQueued || got.Attempts != 1 || !got.NextAttemptAt.Equal(clk.Now().Add(time.Minute)) {
		t.Fatalf("after 451: %s attempts %d next %v, want queued, 1, now+1m", got.Status, got.Attempts, got.NextAttemptAt)
	}
	if !strings.Contains(got.LastError, "451") || strings.Contains(got.LastError, relayPassword) {
		t.Fatalf("last_error %q: want the relay's 451, no password", got.LastError)
	}
	// Not due yet: nothing is tried.
	clk.Add(59 * time.Second)
	if res, _ := d.RunOnce(ctx); res != (cmdbmail.Result{}) {
		t.Fatalf("round before the backoff ended did %+v", res)
	}
	clk.Add(time.Second)
	if res, _ := d.RunOnce(ctx); res.Retry != 1 {
		t.Fatalf("second try %+v, want a retry", res)
	}
	if got := mailByID(t, db, m.ID); !got.NextAttemptAt.Equal(clk.Now().Add(2 * time.Minute)) {
		t.Fatalf("second backoff ends %v, want now+2m", got.NextAttemptAt)
	}
	clk.Add(2 * time.Minute)
	if res, _ := d.RunOnce(ctx); res.Sent != 1 {
		t.Fatalf("third try %+v, want sent", res)
	}
	got = mailByID(t, db, m.ID)
	if got.Status != cmdb.MailSent || got.SentAt == nil || got.LastError != "" {
		t.Fatalf("after delivery %+v", got)
	}
	// Queued again under the same key: nothing new.
	again := outMail("ticket:42:created")
	if added, err := db.EnqueueMail(ctx, again); err != nil || added || again.ID != m.ID {
		t.Fatalf("re-enqueue: added=%v id=%d err=%v, want the existing message", added, again.ID, err)
	}
	clk.Add(time.Hour)
	if res, _ := d.RunOnce(ctx); res != (cmdbmail.Result{}) {
		t.Fatalf("round after delivery did %+v", res)
	}
	if n := len(r.Messages()); n != 1 {
		t.Fatalf("relay got %d messages, want exactly 1", n)
	}
}

func TestDispatcherRelayDownGivesUpAfterMaxAttempts(t *testing.T) {
	ctx := context.Background()
	db := postgrestest.MustOpenDB(t, postgres.Options{})
	r := mailtest.StartRelay(t, "cmdb", relayPassword, false)
	cfg := config(r, cmdbmail.TLSStartTLS)
	cfg.Port = mailtest.ClosedPort(t)
	clk := newClock(db, t)
	d := &cmdbmail.Dispatcher{Outbox: db, Sender: newSender(t, cfg), Now: clk.Now}
	m := enqueue(t, db, "ticket:1:down")
	for i := 0; i < cmdb.MaxMailAttempts+3; i++ {
		if _, err := d.RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
		clk.Add(cmdb.MailBackoffMax)
	}
	got := mailByID(t, db, m.ID)
	if got.Status != cmdb.MailFailed || got.Attempts != cmdb.MaxMailAttempts {
		t.Fatalf("relay down: %s after %d attempts, want failed after %d", got.Status, got.Attempts, cmdb.MaxMailAttempts)
	}
	if got.LastError == "" || strings.Contains(got.LastError, relayPassword) {
		t.Fatalf("last_error %q", got.LastError)
	}
}

func TestDispatcherPermanentRefusalFailsAtOnce(t *testing.T) {
	ctx := context.Background()
	db := postgrestest.MustOpenDB(t, postgres.Options{})
	r := mailtest.StartRelay(t, "cmdb", relayPassword, false)
	r.SetReject(true)
	clk := newClock(db, t)
	d := &cmdbmail.Dispatcher{Outbox: db, Sender: newSender(t, config(r, cmdbmail.TLSStartTLS)), Now: clk.Now}
	m := enqueue(t, db, "ticket:1:550")
	if res, err := d.RunOnce(ctx); err != nil || res.Failed != 1 {
		t.Fatalf("550: %+v %v, want failed", res, err)
	}
	if got := mailByID(t, db, m.ID); got.Status != cmdb.MailFailed || !strings.Contains(got.LastError, "550") {
		t.Fatalf("after 550: %s %q", got.Status, got.LastError)
	}
}

func TestDispatcherCrashMidSendRetriedAfterLease(t *testing.T) {
	ctx := context.Background()
	db := postgrestest.MustOpenDB(t, postgres.Options{})
	r := mailtest.StartRelay(t, "cmdb", relayPassword, false)
	clk := newClock(db, t)
	m := enqueue(t, db, "ticket:5:crash")
	// A dispatcher claims it and dies before sending.
	if ms, err := db.ClaimMail(ctx, clk.Now(), 5*time.Minute, 10); err != nil || len(ms) != 1 {
		t.Fatalf("claim: %v %v", ms, err)
	}
	d := &cmdbmail.Dispatcher{Outbox: db, Sender: newSender(t, config(r, cmdbmail.TLSStartTLS)), Now: clk.Now, Lease: 5 * time.Minute}
	clk.Add(4 * time.Minute)
	if res, _ := d.RunOnce(ctx); res != (cmdbmail.Result{}) {
		t.Fatalf("within the lease another dispatcher did %+v", res)
	}
	clk.Add(time.Minute)
	if res, _ := d.RunOnce(ctx); res.Sent != 1 {
		t.Fatalf("after the lease %+v, want sent", res)
	}
	if got := mailByID(t, db, m.ID); got.Status != cmdb.MailSent || got.Attempts != 2 {
		t.Fatalf("after recovery %s attempts %d", got.Status, got.Attempts)
	}
}

func TestTwoDispatchersNeverSendOneMessageTwice(t *testing.T) {
	ctx := context.Background()
	db := postgrestest.MustOpenDB(t, postgres.Options{})
	r := mailtest.StartRelay(t, "cmdb", relayPassword, false)
	clk := newClock(db, t)
	const n = 40
	for i := 0; i < n; i++ {
		enqueue(t, db, fmt.Sprintf("ticket:%d:created", i))
	}
	var wg sync.WaitGroup
	for w := 0; w < 2; w++ {
		d := &cmdbmail.Dispatcher{Outbox: db, Sender: newSender(t, config(r, cmdbmail.TLSStartTLS)), Now: clk.Now, Batch: 3}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < n; i++ { // bounded: each round sends at least one until empty
				res, err := d.RunOnce(ctx)
				if err != nil {
					t.Error(err)
					return
				}
				if res == (cmdbmail.Result{}) {
					return
				}
			}
		}()
	}
	wg.Wait()
	seen := map[string]int{}
	for _, m := range r.Messages() {
		msg, err := mail.ReadMessage(strings.NewReader(m.Data))
		if err != nil {
			t.Fatal(err)
		}
		seen[msg.Header.Get("Message-ID")]++
	}
	if len(seen) != n {
		t.Fatalf("relay got %d distinct messages, want %d", len(seen), n)
	}
	for id, c := range seen {
		if c != 1 {
			t.Errorf("%s delivered %d times", id, c)
		}
	}
	sent, err := db.FindMail(ctx, cmdb.AdminScope("test"), cmdb.MailFilter{Status: cmdb.MailSent, Limit: 1000})
	if err != nil || len(sent) != n {
		t.Fatalf("%d marked sent (%v), want %d", len(sent), err, n)
	}
}

func TestDispatcherRunStopsOnCancel(t *testing.T) {
	db := postgrestest.MustOpenDB(t, postgres.Options{})
	r := mailtest.StartRelay(t, "cmdb", relayPassword, false)
	enqueue(t, db, "ticket:9:run")
	ctx, cancel := context.WithCancel(context.Background())
	d := &cmdbmail.Dispatcher{Outbox: db, Sender: newSender(t, config(r, cmdbmail.TLSStartTLS)), Interval: 10 * time.Millisecond}
	done := make(chan error)
	go func() { done <- d.Run(ctx) }()
	for i := 0; i < 500 && len(r.Messages()) == 0; i++ { // bounded wait for the delivery
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if n := len(r.Messages()); n != 1 {
		t.Fatalf("Run delivered %d, want 1", n)
	}
}

func TestDispatcherWrongPasswordNotInLastErrorOrLogs(t *testing.T) {
	ctx := context.Background()
	db := postgrestest.MustOpenDB(t, postgres.Options{})
	r := mailtest.StartRelay(t, "cmdb", "the-right-one", false)
	clk := newClock(db, t)
	var logs strings.Builder
	d := &cmdbmail.Dispatcher{Outbox: db, Sender: newSender(t, config(r, cmdbmail.TLSStartTLS)), Now: clk.Now,
		Log: slog.New(slog.NewTextHandler(&syncWriter{w: &logs}, nil))}
	m := enqueue(t, db, "ticket:3:auth")
	if res, err := d.RunOnce(ctx); err != nil || res.Retry != 1 {
		t.Fatalf("wrong password: %+v %v, want a retry", res, err)
	}
	got := mailByID(t, db, m.ID)
	if got.LastError == "" || strings.Contains(got.LastError, relayPassword) {
		t.Fatalf("last_error %q: want a reason without the password", got.LastError)
	}
	if !strings.Contains(logs.String(), "will retry") || strings.Contains(logs.String(), relayPassword) {
		t.Fatalf("logs: %s", logs.String())
	}
}

type syncWriter struct {
	mu sync.Mutex
	w  *strings.Builder
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}
