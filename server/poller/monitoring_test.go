package poller

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/schulit/cmdb/server/cmdb"
	"github.com/schulit/cmdb/server/postgres"
	"github.com/schulit/cmdb/server/postgres/postgrestest"
	"github.com/schulit/cmdb/server/snmp"
)

// TestSNMPRoundOpensTickets polls two simulated printers with the ticket
// module's sink: the Canon's empty magenta toner and the Lexmark's jam
// each open one ticket (the Canon's open door, by default, none), and
// later rounds open no more.
func TestSNMPRoundOpensTickets(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	canon := startDevice(t, ctx, "canon-c5535", nil)
	lexmark := startDevice(t, ctx, "lexmark-ms521", func(s string) string {
		return strings.Replace(s, "1.3.6.1.2.1.25.3.5.1.2.1|4x|00", "1.3.6.1.2.1.25.3.5.1.2.1|4x|04", 1)
	})
	db := postgrestest.MustOpenDB(t, postgres.Options{})
	admin := cmdb.AdminScope("test")
	sch := snmpSchool(t, ctx, db, "MT")
	for _, c := range []string{"canon-c5535", "lexmark-ms521"} {
		must(t, db.CreateSNMPCredential(ctx, admin, sch.ID, &cmdb.SNMPCredential{Name: c, Version: "2c", Community: cmdb.Secret(c)}))
	}
	for _, addr := range []string{canon.Addr(), lexmark.Addr()} {
		must(t, db.CreateSNMPTarget(ctx, admin, &cmdb.SNMPTarget{SchoolID: sch.ID, Address: addr}))
	}
	p := mustPoller(t, Options{Store: db, SNMP: snmp.Options{Timeout: 300 * time.Millisecond}, MissLimit: 3, Concurrency: 4,
		Sink: cmdb.HealthSinks{db.MonitoringSink()}})
	for range 4 {
		must(t, p.Round(ctx))
	}
	tickets, n, err := db.FindTickets(ctx, admin, cmdb.TicketFilter{AuthorityID: sch.AuthorityID})
	must(t, err)
	got := map[string]string{}
	for _, tk := range tickets {
		if tk.Channel != cmdb.ChannelMonitoring || tk.CreatedBy != "monitoring" || len(tk.CIIDs) != 1 {
			t.Errorf("ticket %+v", tk)
		}
		got[tk.Category] = tk.Title
	}
	if n != 2 || !strings.HasPrefix(got["Kein Toner"], "Toner leer: ") || !strings.HasPrefix(got["Papierstau"], "Papierstau: ") {
		t.Fatalf("after four rounds: %d tickets %v, want one Toner leer and one Papierstau", n, got)
	}
}

// TestSNMPRoundBatchSink: through a batch sink (cmdb.HealthSinks), a
// device whose events the sink refused keeps neither events nor state,
// and they are offered again at the next poll, as with a plain sink.
func TestSNMPRoundBatchSink(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	canon := startDevice(t, ctx, "canon-c5535", nil)
	lexmark := startDevice(t, ctx, "lexmark-ms521", func(s string) string {
		return strings.Replace(s, "1.3.6.1.2.1.25.3.5.1.2.1|4x|00", "1.3.6.1.2.1.25.3.5.1.2.1|4x|04", 1)
	})
	db := postgrestest.MustOpenDB(t, postgres.Options{})
	admin := cmdb.AdminScope("test")
	sch := snmpSchool(t, ctx, db, "MB")
	for _, c := range []string{"canon-c5535", "lexmark-ms521"} {
		must(t, db.CreateSNMPCredential(ctx, admin, sch.ID, &cmdb.SNMPCredential{Name: c, Version: "2c", Community: cmdb.Secret(c)}))
	}
	for _, addr := range []string{canon.Addr(), lexmark.Addr()} {
		must(t, db.CreateSNMPTarget(ctx, admin, &cmdb.SNMPTarget{SchoolID: sch.ID, Address: addr}))
	}
	sink := &recordingSink{}
	p := mustPoller(t, Options{Store: db, SNMP: snmp.Options{Timeout: 300 * time.Millisecond}, MissLimit: 3, Concurrency: 4,
		Sink: cmdb.HealthSinks{sink}})
	must(t, p.Round(ctx))
	targets, err := db.FindSNMPTargets(ctx, admin, sch.ID)
	must(t, err)
	ciOf := map[string]int64{}
	for _, tg := range targets {
		ciOf[tg.Address] = tg.CIID
	}
	canonCI, lexmarkCI := ciOf[canon.Addr()], ciOf[lexmark.Addr()]
	sink.fail = func(ci int64) bool { return ci == canonCI }
	must(t, p.Round(ctx))
	if got := storedEvents(t, ctx, db, canonCI); len(got) != 0 {
		t.Fatalf("events of the Canon stored although the sink refused them: %v", got)
	}
	if got := storedEvents(t, ctx, db, lexmarkCI); len(got) != 1 {
		t.Fatalf("events of the Lexmark = %v, want its jam", got)
	}
	sink.fail = nil
	must(t, p.Round(ctx))
	if got := storedEvents(t, ctx, db, canonCI); len(got) != 2 {
		t.Fatalf("events of the Canon after the sink recovered = %v, want the door and the toner", got)
	}
}
