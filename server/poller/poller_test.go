package poller

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/schulit/cmdb/internal/syncbuf"
	"github.com/schulit/cmdb/server/cmdb"
	"github.com/schulit/cmdb/server/pjlink/pjlinktest"
	"github.com/schulit/cmdb/server/postgres"
	"github.com/schulit/cmdb/server/postgres/postgrestest"
	"github.com/schulit/cmdb/server/snmp"
	"github.com/schulit/cmdb/server/snmp/sim"
	"github.com/schulit/cmdb/server/snmp/snmptest"
)

func TestMain(m *testing.M) { postgrestest.Main(m) }

func mustPoller(t *testing.T, o Options) *Poller {
	t.Helper()
	p, err := New(o)
	must(t, err)
	return p
}

// TestSNMPRound polls a simulated printer and a silent address through
// the real store, trying the school's credential profiles in order: the
// printer becomes a CI with its page counter and supply metrics, and the
// silent address is marked unreachable after three misses without
// holding up the rounds.
func TestSNMPRound(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	srv, err := sim.Start(ctx, sim.Options{DataDir: snmptest.DataDir(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	silent, err := net.ListenPacket("udp", "127.0.0.1:0") // answers nothing
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()

	db := postgrestest.MustOpenDB(t, postgres.Options{})
	admin := cmdb.AdminScope("test")
	a := &cmdb.Authority{Code: "SN", Name: "Stadt SN"}
	must(t, db.CreateAuthority(ctx, admin, a))
	sch := &cmdb.School{AuthorityID: a.ID, Code: "40123", Name: "Gymnasium"}
	must(t, db.CreateSchool(ctx, admin, sch))
	// Communities are tried in order; each simulated device answers to its own.
	for _, c := range []string{"wrong-community", "lexmark-ms521"} {
		must(t, db.CreateSNMPCredential(ctx, admin, sch.ID, &cmdb.SNMPCredential{Name: c, Version: "2c", Community: cmdb.Secret(c)}))
	}
	must(t, db.CreateSNMPTarget(ctx, admin, &cmdb.SNMPTarget{SchoolID: sch.ID, Address: srv.Addr()}))
	must(t, db.CreateSNMPTarget(ctx, admin, &cmdb.SNMPTarget{SchoolID: sch.ID, Address: silent.LocalAddr().String()}))

	p := mustPoller(t, Options{Store: db, SNMP: snmp.Options{Timeout: 300 * time.Millisecond, Retries: 0}, MissLimit: 3, Concurrency: 16})
	for round := 0; round < 3; round++ {
		must(t, p.Round(ctx))
	}
	targets, err := db.FindSNMPTargets(ctx, admin, sch.ID)
	must(t, err)
	var printer *cmdb.SNMPTarget
	for _, tg := range targets {
		if tg.Address == srv.Addr() {
			printer = tg
			if tg.CIID == 0 || tg.Unreachable {
				t.Fatalf("simulated printer target = %+v", tg)
			}
		} else if !tg.Unreachable || tg.Misses != 3 {
			t.Fatalf("silent target = %+v", tg)
		}
	}
	ci, err := db.FindCIByID(ctx, admin, printer.CIID)
	must(t, err)
	if ci.Serial != "4514123456789" || ci.Vendor != "Lexmark" || ci.Class != "printer" {
		t.Fatalf("CI = %+v", ci)
	}
	ms, err := db.FindMetrics(ctx, admin, ci.ID, "", 0)
	must(t, err)
	names := map[string]bool{}
	for _, m := range ms {
		names[m.Name] = true
	}
	if !names["counter.pages"] || len(names) < 3 {
		t.Fatalf("metrics = %v", names)
	}
}

// snmpSchool makes an authority and a school for a polling test.
func snmpSchool(t *testing.T, ctx context.Context, db *postgres.DB, code string) *cmdb.School {
	t.Helper()
	admin := cmdb.AdminScope("test")
	a := &cmdb.Authority{Code: code, Name: "Stadt " + code}
	must(t, db.CreateAuthority(ctx, admin, a))
	sch := &cmdb.School{AuthorityID: a.ID, Code: "40123", Name: "Gymnasium"}
	must(t, db.CreateSchool(ctx, admin, sch))
	return sch
}

// startDevice starts a simulator answering as one recording of the shared
// samples on its own port; edit, when not nil, changes its lines first.
func startDevice(t *testing.T, ctx context.Context, name string, edit func(string) string) *sim.Server {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(snmptest.DataDir(t), name+".snmprec"))
	must(t, err)
	data := string(b)
	if edit != nil {
		data = edit(data)
	}
	dir := t.TempDir()
	must(t, os.WriteFile(filepath.Join(dir, name+".snmprec"), []byte(data), 0o644))
	srv, err := sim.Start(ctx, sim.Options{DataDir: dir, Workers: 1})
	must(t, err)
	t.Cleanup(func() { srv.Close() })
	return srv
}

// recordingSink is a cmdb.HealthSink that keeps what it is offered and fails
// for the CIs fail says.
type recordingSink struct {
	mu   sync.Mutex
	fail func(ciID int64) bool
	got  []string // "<ci> +kind subject"
}

func (s *recordingSink) HealthEvent(ctx context.Context, e cmdb.HealthEvent) error {
	ciID := e.CIID
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail != nil && s.fail(ciID) {
		return errors.New("ticket module unavailable")
	}
	sign := "-"
	if e.Open {
		sign = "+"
	}
	s.got = append(s.got, strings.TrimSpace(fmt.Sprintf("%d %s%s %s", ciID, sign, e.Kind, e.Subject)))
	return nil
}

func (s *recordingSink) events() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.got)
}

// storedEvents lists a CI's stored health events like recordingSink.
func storedEvents(t *testing.T, ctx context.Context, db *postgres.DB, ciID int64) []string {
	t.Helper()
	evs, err := db.FindHealthEvents(ctx, cmdb.AdminScope("test"), ciID)
	must(t, err)
	var out []string
	for _, e := range evs {
		sign := "-"
		if e.Open {
			sign = "+"
		}
		out = append(out, strings.TrimSpace(fmt.Sprintf("%d %s%s %s", ciID, sign, e.Kind, e.Subject)))
	}
	slices.Sort(out)
	return out
}

// TestSNMPRoundSink offers health events to a Sink that fails for one
// device: that device's events are neither stored nor lost, but detected
// and offered again at the next poll, and stored once; the other
// device's events go through at once.
func TestSNMPRoundSink(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// The Canon has its door open and its magenta toner empty; the
	// Lexmark is made to report a jam.
	canon := startDevice(t, ctx, "canon-c5535", nil)
	lexmark := startDevice(t, ctx, "lexmark-ms521", func(s string) string {
		return strings.Replace(s, "1.3.6.1.2.1.25.3.5.1.2.1|4x|00", "1.3.6.1.2.1.25.3.5.1.2.1|4x|04", 1)
	})
	db := postgrestest.MustOpenDB(t, postgres.Options{})
	admin := cmdb.AdminScope("test")
	sch := snmpSchool(t, ctx, db, "SK")
	for _, c := range []string{"canon-c5535", "lexmark-ms521"} {
		must(t, db.CreateSNMPCredential(ctx, admin, sch.ID, &cmdb.SNMPCredential{Name: c, Version: "2c", Community: cmdb.Secret(c)}))
	}
	for _, srv := range []*sim.Server{canon, lexmark} {
		must(t, db.CreateSNMPTarget(ctx, admin, &cmdb.SNMPTarget{SchoolID: sch.ID, Address: srv.Addr()}))
	}
	var ciOf = map[string]int64{}
	sink := &recordingSink{}
	p := mustPoller(t, Options{Store: db, SNMP: snmp.Options{Timeout: 300 * time.Millisecond}, MissLimit: 3, Concurrency: 4, Sink: sink})

	must(t, p.Round(ctx)) // conditions pending; CIs made
	targets, err := db.FindSNMPTargets(ctx, admin, sch.ID)
	must(t, err)
	for _, tg := range targets {
		ciOf[tg.Address] = tg.CIID
	}
	canonCI, lexmarkCI := ciOf[canon.Addr()], ciOf[lexmark.Addr()]
	if canonCI == 0 || lexmarkCI == 0 || canonCI == lexmarkCI {
		t.Fatalf("CIs of the targets = %v", ciOf)
	}
	if got := sink.events(); len(got) != 0 {
		t.Fatalf("after one poll the sink got %v", got)
	}

	sink.fail = func(ci int64) bool { return ci == canonCI }
	must(t, p.Round(ctx)) // conditions open: the Canon's are refused
	lexWant := []string{fmt.Sprint(lexmarkCI, " +jam")}
	if got := sink.events(); !slices.Equal(got, lexWant) {
		t.Fatalf("sink got %v, want %v", got, lexWant)
	}
	if got := storedEvents(t, ctx, db, canonCI); len(got) != 0 {
		t.Fatalf("events of the Canon stored although the sink refused them: %v", got)
	}
	if got := storedEvents(t, ctx, db, lexmarkCI); !slices.Equal(got, lexWant) {
		t.Fatalf("events of the Lexmark = %v, want %v", got, lexWant)
	}

	sink.fail = nil
	must(t, p.Round(ctx)) // the Canon's edges again
	must(t, p.Round(ctx)) // nothing new
	canonWant := []string{fmt.Sprint(canonCI, " +door_open"), fmt.Sprint(canonCI, " +supply_empty #3 Canon GPR-53 Magenta Toner")}
	got := sink.events()
	slices.Sort(got[1:])
	if want := append(slices.Clone(lexWant), canonWant...); !slices.Equal(got, want) {
		t.Fatalf("sink got %v, want %v", got, want)
	}
	if got := storedEvents(t, ctx, db, canonCI); !slices.Equal(got, canonWant) {
		t.Fatalf("events of the Canon = %v, want %v (each once)", got, canonWant)
	}
	if got := storedEvents(t, ctx, db, lexmarkCI); !slices.Equal(got, lexWant) {
		t.Fatalf("events of the Lexmark = %v, want %v", got, lexWant)
	}
}

// TestPJLinkRound polls projectors over PJLink in the polling round: one
// with a password (the school's second PJLink password is the right
// one), a class 2 one that already has a CI from the inventory export,
// one that needs a password the school does not have and a closed port.
// Answers become CIs with lamp hours, power and error status; lamp and
// filter trouble becomes health events; the silent ones are marked
// unreachable after three misses; no password reaches the log.
func TestPJLinkRound(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	epson := pjlinktest.NewServer(pjlinktest.Projector{Class: 1, Password: "beamer-2", Power: 1, ERST: "010010",
		Lamps: []pjlinktest.Lamp{{Hours: 2150, On: true}}, Manufacturer: "EPSON", Model: "EB-695Wi", Name: "Raum 1.12"})
	defer epson.Close()
	nec := pjlinktest.NewServer(pjlinktest.Projector{Class: 2, Power: 0, Lamps: []pjlinktest.Lamp{{Hours: 310}},
		Manufacturer: "NEC", Model: "ME403U", Name: "Aula", Serial: "1Z00123EG", SoftwareVersion: "2.01"})
	defer nec.Close()
	locked := pjlinktest.NewServer(pjlinktest.Projector{Password: "unknown-pw", Manufacturer: "BenQ"})
	defer locked.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	closed := ln.Addr().String()
	ln.Close()

	db := postgrestest.MustOpenDB(t, postgres.Options{})
	admin := cmdb.AdminScope("test")
	sch := snmpSchool(t, ctx, db, "PJ")
	// Bad PJLink credentials name the field.
	for _, tt := range []struct {
		c     cmdb.SNMPCredential
		field string
	}{
		{cmdb.SNMPCredential{Name: "x", Version: "pjlink"}, "auth_pass"},
		{cmdb.SNMPCredential{Name: "x", Version: "pjlink", AuthPass: cmdb.Secret(strings.Repeat("p", 33))}, "auth_pass"},
		{cmdb.SNMPCredential{Name: "x", Version: "pjlink", AuthPass: "mit leerzeichen"}, "auth_pass"},
		{cmdb.SNMPCredential{Name: "x", Version: "pjlink", AuthPass: "pw", Community: "public"}, "community"},
	} {
		if err := db.CreateSNMPCredential(ctx, admin, sch.ID, &tt.c); cmdb.ErrorField(err) != tt.field {
			t.Errorf("%s: %v, want an error on %s", tt.c.AuthPass.Reveal(), err, tt.field)
		}
	}
	for _, pw := range []string{"beamer-1", "beamer-2"} {
		must(t, db.CreateSNMPCredential(ctx, admin, sch.ID, &cmdb.SNMPCredential{Name: "Beamer " + pw, Version: "pjlink", AuthPass: cmdb.Secret(pw)}))
	}
	// The NEC is in the inventory export already.
	res, err := db.Reconcile(ctx, admin, []cmdb.Observation{{Source: "connector:export", SourceKey: "A-17", AuthorityID: sch.AuthorityID,
		SchoolID: sch.ID, Class: cmdb.ClassProjector, Vendor: "NEC", Serial: "1Z00123EG", AssetTag: "A-17"}})
	must(t, err)
	necCI := res.Items[0].CIID
	for _, addr := range []string{epson.Addr, nec.Addr, locked.Addr, closed} {
		must(t, db.CreateSNMPTarget(ctx, admin, &cmdb.SNMPTarget{SchoolID: sch.ID, Address: addr, Kind: cmdb.TargetPJLink}))
	}

	logs := &syncbuf.Buffer{}
	p := mustPoller(t, Options{Store: db, PJLinkTimeout: time.Second, MissLimit: 3, Concurrency: 4,
		Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	for range 3 {
		must(t, p.Round(ctx))
	}
	targets, err := db.FindSNMPTargets(ctx, admin, sch.ID)
	must(t, err)
	ciOf := map[string]int64{}
	for _, tg := range targets {
		ciOf[tg.Address] = tg.CIID
		silent := tg.Address == locked.Addr || tg.Address == closed
		if silent != tg.Unreachable || silent && tg.Misses != 3 || silent != (tg.CIID == 0) {
			t.Errorf("target %s = %+v", tg.Address, tg)
		}
	}
	if ciOf[nec.Addr] != necCI {
		t.Errorf("NEC polled into CI %d, want the export's CI %d", ciOf[nec.Addr], necCI)
	}
	if _, total, err := db.FindCIs(ctx, admin, cmdb.CIFilter{AuthorityID: sch.AuthorityID, Limit: 10}); err != nil || total != 2 {
		t.Errorf("CIs = %d, %v; want 2 (the Epson and the NEC)", total, err)
	}

	ci, err := db.FindCIByID(ctx, admin, ciOf[epson.Addr])
	must(t, err)
	if ci.Class != cmdb.ClassProjector || ci.Vendor != "Epson" || ci.Model != "EB-695Wi" ||
		ci.Attributes["pjlink.name"] != "Raum 1.12" || ci.Attributes["projector.lamp.1.hours"] != "2150" ||
		ci.Attributes["projector.errors"] != "lamp:warning,filter:warning" || ci.Attributes["projector.power"] != "on" {
		t.Errorf("Epson CI = %+v", ci)
	}
	ms, err := db.FindMetrics(ctx, admin, ci.ID, "projector.lamp.1.hours", 0)
	must(t, err)
	if len(ms) != 3 || ms[0].Value != 2150 {
		t.Errorf("lamp hours series = %+v, want three polls of 2150", ms)
	}
	ms, err = db.FindMetrics(ctx, admin, ci.ID, "projector.error.filter", 1)
	must(t, err)
	if len(ms) != 1 || ms[0].Value != 1 {
		t.Errorf("filter error series = %+v, want 1 (warning)", ms)
	}
	if got, want := storedEvents(t, ctx, db, ci.ID), []string{fmt.Sprint(ci.ID, " +filter"), fmt.Sprint(ci.ID, " +lamp")}; !slices.Equal(got, want) {
		t.Errorf("Epson events = %v, want %v", got, want)
	}
	nci, err := db.FindCIByID(ctx, admin, necCI)
	must(t, err)
	if nci.AssetTag != "A-17" || nci.Attributes["projector.power"] != "off" || nci.Attributes["pjlink.software_version"] != "2.01" ||
		nci.Attributes["projector.errors"] != "none" {
		t.Errorf("NEC CI = %+v", nci)
	}
	if got := storedEvents(t, ctx, db, necCI); len(got) != 0 {
		t.Errorf("NEC events = %v, want none", got)
	}

	out := logs.String()
	if !strings.Contains(out, "accepted none of its school's passwords") || !strings.Contains(out, locked.Addr) {
		t.Errorf("no warning about the projector that refused every password in:\n%s", out)
	}
	for _, pw := range []string{"beamer-1", "beamer-2"} {
		if strings.Contains(out, pw) {
			t.Fatalf("a PJLink password is in the log:\n%s", out)
		}
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
