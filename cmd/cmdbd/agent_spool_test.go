package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/schulit/cmdb/agent"
	"github.com/schulit/cmdb/agentproto"
	"github.com/schulit/cmdb/server/cmdb"
	"github.com/schulit/cmdb/server/postgres/postgrestest"
)

// TestAgentSpoolsWhileServerIsDown runs the real agent against the real
// server: reports made while the server is down are spooled on disk,
// survive a restart of the agent, and are delivered in order when the
// server is back.
func TestAgentSpoolsWhileServerIsDown(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := postgrestest.NewDatabase(t)
	_, out, _ := runMain(t, "token", "create", "--admin", "--db", url)
	m, _, _ := runMain(t, "serve", "--listen", "127.0.0.1:0", "--db", url)
	addr := m.Addr()
	c := &client{t: t, base: "http://" + addr, token: strings.TrimSpace(out)}
	_, school, _, _ := c.tenant("SP")
	et := c.must(201, "POST", "/api/v1/enrolment-tokens", map[string]any{"school_id": school, "name": "spool"})

	inv := testInventory(7)
	state := filepath.Join(t.TempDir(), "state.json")
	newAgent := func() *agent.Agent {
		a, err := agent.New(agent.Options{StatePath: state, Collect: func(context.Context) cmdb.Inventory { return inv }})
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	ag := newAgent()
	if err := ag.Enroll(ctx, c.base, agentproto.Secret(et["token"].(string))); err != nil {
		t.Fatal(err)
	}
	if err := ag.Once(ctx); err != nil {
		t.Fatal(err)
	}
	devID := ag.State().DeviceID
	db := mustSQL(t, url)
	lastSeq := func() (n uint64) {
		db.QueryRow(`SELECT last_seq FROM devices WHERE id = $1`, devID).Scan(&n)
		return n
	}
	if lastSeq() != 1 {
		t.Fatalf("first report not applied: last_seq %d", lastSeq())
	}

	// The server goes away; three reports, two with changes, are spooled.
	m.Close()
	for i := 0; i < 3; i++ {
		if i > 0 {
			inv.Software = append(inv.Software, cmdb.SoftwareItem{Name: fmt.Sprintf("app-%d", i), Version: "1.0"})
		}
		if err := ag.Once(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if n, _ := ag.Spool().Len(); n != 3 {
		t.Fatalf("spooled %d reports, want 3", n)
	}

	// The agent restarts (a reboot), the server comes back on its address.
	ag = newAgent()
	if n, _ := ag.Spool().Len(); n != 3 {
		t.Fatalf("after restart the spool holds %d reports, want 3", n)
	}
	m2, _, _ := runMain(t, "serve", "--listen", addr, "--db", url)
	defer m2.Close()
	if err := ag.Once(ctx); err != nil {
		t.Fatal(err)
	}
	if n, _ := ag.Spool().Len(); n != 0 {
		t.Fatalf("spool still holds %d reports", n)
	}
	if got, want := lastSeq(), ag.State().Seq; got != want || want != 5 {
		t.Fatalf("last_seq %d, agent seq %d (want 5)", got, want)
	}
	var ciID int64
	db.QueryRow(`SELECT ci_id FROM devices WHERE id = $1`, devID).Scan(&ciID)
	if sw := c.must(200, "GET", fmt.Sprintf("/api/v1/cis/%d/software", ciID), nil); sw["total"].(float64) != 4 {
		t.Fatalf("software on the CI = %v, want the 4 packages of the newest inventory", sw["total"])
	}
}
