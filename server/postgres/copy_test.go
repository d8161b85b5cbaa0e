package postgres_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/schulit/cmdb/server/cmdb"
	"github.com/schulit/cmdb/server/postgres"
	"github.com/schulit/cmdb/server/postgres/postgrestest"
)

// TestReconcileCopyPath checks that a large batch, whose new CIs,
// identifiers and history go through COPY, writes exactly what a batch of
// one (INSERT) writes, and that the next batch identifies the CIs by the
// identifiers COPY wrote.
func TestReconcileCopyPath(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := postgrestest.MustOpenDB(t, postgres.Options{})
	small, large := MustCreateTenant(t, db, "CPS"), MustCreateTenant(t, db, "CPL")
	at := time.Now().UTC().Add(-time.Hour).Truncate(time.Second)
	obs := func(tn *Tenant, i int) cmdb.Observation {
		return cmdb.Observation{Source: "connector:inventar", SourceKey: fmt.Sprintf("INV-%04d", i), AuthorityID: tn.Authority.ID,
			SchoolID: tn.School.ID, RoomID: tn.Room.ID, Class: "laptop", Serial: fmt.Sprintf("SN%06d", i), Vendor: "Dell Inc.",
			AssetTag: fmt.Sprintf("INV-%04d", i), NICs: []cmdb.NIC{{MAC: fmt.Sprintf("02-00-00-00-%02X-%02X", i>>8, i&0xff)}},
			Attributes: map[string]string{"model": "Latitude 5440", "purchase_date": "2024-08-01", "bemerkung": "Tab\tund \\ Zeile\nzwei"},
			ObservedAt: at}
	}
	one, err := db.Reconcile(ctx, admin, []cmdb.Observation{obs(small, 0)})
	must(t, err)
	batch := make([]cmdb.Observation, 200)
	for i := range batch {
		batch[i] = obs(large, i)
	}
	many, err := db.Reconcile(ctx, admin, batch)
	must(t, err)
	a, err := db.FindCIByID(ctx, admin, one.Items[0].CIID)
	must(t, err)
	b, err := db.FindCIByID(ctx, admin, many.Items[0].CIID)
	must(t, err)
	if got, want := ciShape(b), ciShape(a); got != want {
		t.Errorf("CI through COPY\n %s\nthrough INSERT\n %s", got, want)
	}
	ha, err := db.FindHistory(ctx, admin, a.ID, 0)
	must(t, err)
	hb, err := db.FindHistory(ctx, admin, b.ID, 0)
	must(t, err)
	if got, want := historyShape(hb), historyShape(ha); got != want {
		t.Errorf("history through COPY\n %s\nthrough INSERT\n %s", got, want)
	}
	// Each identifier alone finds the CI again: COPY wrote them all.
	for i, o := range []cmdb.Observation{
		{Source: "connector:inventar", SourceKey: "INV-0007"},
		{Source: "agent", SourceKey: "x-1", Serial: "SN000008", Vendor: "Dell"},
		{Source: "agent", SourceKey: "x-2", NICs: []cmdb.NIC{{MAC: "02:00:00:00:00:09"}}},
	} {
		o.AuthorityID = large.Authority.ID
		res, err := db.Reconcile(ctx, admin, []cmdb.Observation{o})
		must(t, err)
		if want := many.Items[7+i].CIID; res.Items[0].CIID != want || res.Items[0].Outcome == cmdb.OutcomeCreated {
			t.Errorf("observation %d: CI %d (%s), want CI %d", i, res.Items[0].CIID, res.Items[0].Outcome, want)
		}
	}
}

func ciShape(c *cmdb.CI) string {
	return fmt.Sprintf("class=%s status=%s name=%q vendor=%s model=%s serial=%s tag=%s room=%t school=%t purchase=%s attrs=%v prov=%d created=%t",
		c.Class, c.Status, c.Name, c.Vendor, c.Model, c.Serial, c.AssetTag[:4], c.RoomID != 0, c.SchoolID != 0, c.PurchaseDate,
		c.Attributes, len(c.Provenance), !c.CreatedAt.IsZero())
}

func historyShape(hs []*cmdb.HistoryEntry) string {
	s := ""
	str := func(p *string) string {
		if p == nil {
			return "NULL"
		}
		return fmt.Sprintf("%q", *p)
	}
	for _, h := range hs {
		v := str(h.New)
		if h.Attr == cmdb.AttrSerial || h.Attr == cmdb.AttrAssetTag || h.Attr == cmdb.AttrName || h.Attr == "school" || h.Attr == "room" {
			v = "…" // differs by device number or tenant
		}
		s += fmt.Sprintf("%s:%s→%s by %s at %s; ", h.Attr, str(h.Old), v, h.Source, h.At.UTC().Format(time.RFC3339Nano))
	}
	return s
}
