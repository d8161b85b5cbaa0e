package poller

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/schulit/cmdb/internal/syncbuf"
	"github.com/schulit/cmdb/server/cmdb"
	"github.com/schulit/cmdb/server/pjlink"
	"github.com/schulit/cmdb/server/postgres"
	"github.com/schulit/cmdb/server/postgres/postgrestest"
	"github.com/schulit/cmdb/server/snmp"
)

// TestRoundSaysWhy polls a printer, a silent port, a closed port and the
// targets of a school whose credential profiles were sealed with another
// secret key: each failure's reason is kept on its target, the metrics
// count the round by outcome and reason, and one log line sums it up
// without any secret. The school that cannot be read does not stop the
// others.
func TestRoundSaysWhy(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	printer := startDevice(t, ctx, "lexmark-ms521", nil)
	silent, err := net.ListenPacket("udp", "127.0.0.1:0")
	must(t, err)
	defer silent.Close()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	must(t, err)
	closed := pc.LocalAddr().String()
	pc.Close()

	url := postgrestest.NewDatabase(t)
	old, err := postgres.Open(ctx, url, postgres.Options{SecretKey: bytes.Repeat([]byte{7}, 32)})
	must(t, err)
	defer old.Close()
	admin := cmdb.AdminScope("test")
	locked := snmpSchool(t, ctx, old, "OLD")
	must(t, old.CreateSNMPCredential(ctx, admin, locked.ID, &cmdb.SNMPCredential{Name: "alt", Version: "2c", Community: "geheim-alt"}))
	must(t, old.CreateSNMPTarget(ctx, admin, &cmdb.SNMPTarget{SchoolID: locked.ID, Address: "10.9.9.9"}))

	db, err := postgres.Open(ctx, url, postgres.Options{SecretKey: bytes.Repeat([]byte{8}, 32)})
	must(t, err)
	defer db.Close()
	sch := snmpSchool(t, ctx, db, "NEW")
	must(t, db.CreateSNMPCredential(ctx, admin, sch.ID, &cmdb.SNMPCredential{Name: "c", Version: "2c", Community: "lexmark-ms521"}))
	for _, addr := range []string{printer.Addr(), silent.LocalAddr().String(), closed} {
		must(t, db.CreateSNMPTarget(ctx, admin, &cmdb.SNMPTarget{SchoolID: sch.ID, Address: addr}))
	}

	reg := prometheus.NewRegistry()
	logs := &syncbuf.Buffer{}
	p := mustPoller(t, Options{Store: db, SNMP: snmp.Options{Timeout: 300 * time.Millisecond}, Registry: reg,
		Logger: slog.New(slog.NewTextHandler(logs, nil))})
	must(t, p.Round(ctx))

	targets, err := db.FindSNMPTargets(ctx, admin, 0)
	must(t, err)
	want := map[string]cmdb.PollFailure{printer.Addr(): "", silent.LocalAddr().String(): cmdb.PollTimeout,
		closed: cmdb.PollRefused, "10.9.9.9": cmdb.PollCredentialsUnreadable}
	for _, tg := range targets {
		w, ok := want[tg.Address]
		if !ok {
			t.Fatalf("unexpected target %+v", tg)
		}
		if tg.LastErrorReason != w || (w == "") != (tg.LastErrorAt == nil) {
			t.Errorf("target %s: reason %q at %v, want %q", tg.Address, tg.LastErrorReason, tg.LastErrorAt, w)
		}
		if tg.Address == "10.9.9.9" && (tg.LastPollAt != nil || tg.Misses != 0) {
			t.Errorf("target of the unreadable school was counted as polled: %+v", tg)
		}
	}

	// What a scrape of /metrics would show.
	mfs, err := reg.Gather()
	must(t, err)
	got := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			key := mf.GetName()
			for _, l := range m.GetLabel() {
				key += " " + l.GetName() + "=" + l.GetValue()
			}
			switch {
			case m.GetCounter() != nil:
				got[key] = m.GetCounter().GetValue()
			case m.GetHistogram() != nil:
				got[key] = float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	for key, w := range map[string]float64{
		"cmdb_poll_devices_total kind=snmp outcome=ok":                        1,
		"cmdb_poll_devices_total kind=snmp outcome=unreachable":               2,
		"cmdb_poll_devices_total kind=snmp outcome=skipped":                   1,
		"cmdb_poll_unreachable_total kind=snmp reason=timeout":                1,
		"cmdb_poll_unreachable_total kind=snmp reason=refused":                1,
		"cmdb_poll_unreachable_total kind=snmp reason=credentials_unreadable": 1,
		"cmdb_poll_round_seconds kind=snmp":                                   1, // one round observed
	} {
		if got[key] != w {
			t.Errorf("%s = %v, want %v (all: %v)", key, got[key], w, got)
		}
	}

	out := logs.String()
	for _, w := range []string{"msg=\"polling round\"", "polled=3", "ok=1", "unreachable=2", "skipped=1",
		`unreachable_by_reason="credentials_unreadable=1 refused=1 timeout=1"`, "events_opened=0", "duration_ms=",
		"credential profiles of a school cannot be read"} {
		if !strings.Contains(out, w) {
			t.Errorf("log lacks %s:\n%s", w, out)
		}
	}
	if strings.Contains(out, "geheim-alt") || strings.Contains(out, "lexmark-ms521\"") {
		t.Fatalf("a community is in the log:\n%s", out)
	}
}

func TestPJLinkFailure(t *testing.T) {
	for _, tt := range []struct {
		err  error
		want cmdb.PollFailure
	}{
		{nil, ""},
		{pjlink.ErrAuth, cmdb.PollWrongCredentials},
		{pjlink.ErrProtocol, cmdb.PollProtocol},
		{context.DeadlineExceeded, cmdb.PollTimeout},
	} {
		if got := PJLinkFailure(tt.err); got != tt.want {
			t.Errorf("PJLinkFailure(%v) = %q, want %q", tt.err, got, tt.want)
		}
	}
}
