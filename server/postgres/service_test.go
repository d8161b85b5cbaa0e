package postgres_test

import (
	"context"
	"testing"

	"github.com/schulit/cmdb/server/cmdb"
)

// TestServiceCatalogue: authority IT builds the catalogue, teachers list
// it but cannot change it, providers and other authorities see none; a
// request against a service takes its group, level and answers.
func TestServiceCatalogue(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	x := newTicketEnv(t, "SVC")
	o := MustCreateTenant(t, x.db, "SVO")
	otherIT := cmdb.Scope{Subject: "user:other", Authorities: []int64{o.Authority.ID}}
	defs := cmdb.DefaultServices()
	install := defs[0]
	install.ProviderID = x.provider
	must(t, x.db.CreateService(ctx, x.authIT, &install))
	foreign := defs[1]
	must(t, x.db.CreateService(ctx, otherIT, &foreign))

	teacherSvc := defs[1]
	teacherSvc.AuthorityID = x.tn.Authority.ID
	if err := x.db.CreateService(ctx, x.teacher, &teacherSvc); cmdb.ErrorCode(err) != cmdb.EFORBIDDEN {
		t.Fatalf("teacher creates a service: %v", err)
	}
	if list, err := x.db.FindServices(ctx, x.teacher, cmdb.ServiceFilter{}); err != nil || len(list) != 1 || list[0].ID != install.ID {
		t.Fatalf("teacher's catalogue: %v %v", list, err)
	}
	if list, _ := x.db.FindServices(ctx, x.providerIT, cmdb.ServiceFilter{}); len(list) != 0 {
		t.Fatalf("a provider sees %d services", len(list))
	}
	if _, err := x.db.FindServiceByID(ctx, x.authIT, foreign.ID); cmdb.ErrorCode(err) != cmdb.ENOTFOUND {
		t.Fatalf("another authority's service: %v", err)
	}
	if _, err := x.db.UpdateService(ctx, x.authIT, foreign.ID, cmdb.ServiceUpdate{}); cmdb.ErrorCode(err) != cmdb.ENOTFOUND {
		t.Fatalf("change another authority's service: %v", err)
	}
	if _, err := x.db.UpdateService(ctx, x.teacher, install.ID, cmdb.ServiceUpdate{}); cmdb.ErrorCode(err) != cmdb.EFORBIDDEN {
		t.Fatalf("teacher changes a service: %v", err)
	}

	req := func() *cmdb.Ticket {
		return &cmdb.Ticket{Type: cmdb.TicketRequest, Title: "GeoGebra in Raum 1.12", Impact: 3, Urgency: 3, RoomID: x.tn.Room.ID,
			ServiceID: install.ID, FormAnswers: map[string]any{"raum": float64(x.tn.Room.ID), "software": "GeoGebra", "gewuenscht_bis": "01.09.2026"}}
	}
	bad := req()
	delete(bad.FormAnswers, "software")
	if _, err := x.db.CreateTicket(ctx, x.teacher, bad, ""); cmdb.ErrorField(err) != "form_answers.software" {
		t.Fatalf("missing required answer: %v", err)
	}
	bad = req()
	bad.FormAnswers["raum"] = float64(o.Room.ID)
	if _, err := x.db.CreateTicket(ctx, x.teacher, bad, ""); cmdb.ErrorField(err) != "form_answers.raum" {
		t.Fatalf("another authority's room in an answer: %v", err)
	}
	bad = req()
	bad.Type = cmdb.TicketIncident
	if _, err := x.db.CreateTicket(ctx, x.teacher, bad, ""); cmdb.ErrorField(err) != "type" {
		t.Fatalf("an incident against a service: %v", err)
	}
	bad = req()
	bad.ServiceID = foreign.ID
	bad.FormAnswers = nil
	if _, err := x.db.CreateTicket(ctx, x.teacher, bad, ""); cmdb.ErrorField(err) != "service_id" {
		t.Fatalf("another authority's service: %v", err)
	}
	tk := req()
	if _, err := x.db.CreateTicket(ctx, x.teacher, tk, ""); err != nil {
		t.Fatal(err)
	}
	if tk.ServiceID != install.ID || tk.Service != install.Name || tk.ProviderID != x.provider || tk.Level != 2 ||
		tk.Category != "Sonstiges" || tk.FormAnswers["gewuenscht_bis"] != "2026-09-01" {
		t.Fatalf("request: %+v", tk)
	}
	if list, n, err := x.db.FindTickets(ctx, x.authIT, cmdb.TicketFilter{ServiceID: install.ID}); err != nil || n != 1 || list[0].ID != tk.ID {
		t.Fatalf("tickets of the service: %d %v", n, err)
	}
	// Deactivated, the service is gone from the teacher's catalogue and takes no new requests.
	off := false
	must(t, second(x.db.UpdateService(ctx, x.authIT, install.ID, cmdb.ServiceUpdate{Active: &off})))
	if _, err := x.db.FindServiceByID(ctx, x.teacher, install.ID); cmdb.ErrorCode(err) != cmdb.ENOTFOUND {
		t.Fatalf("teacher reads an inactive service: %v", err)
	}
	if _, err := x.db.CreateTicket(ctx, x.authIT, req(), ""); cmdb.ErrorField(err) != "service_id" {
		t.Fatalf("request against an inactive service: %v", err)
	}
}

// TestTicketCategoryEditing: an authority adds its own categories and
// hides defaults; neither reaches another authority, and a hidden or
// foreign category cannot be picked.
func TestTicketCategoryEditing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	x := newTicketEnv(t, "CAT")
	o := MustCreateTenant(t, x.db, "CAO")
	otherIT := cmdb.Scope{Subject: "user:other", Authorities: []int64{o.Authority.ID}}
	otherTeacher := cmdb.Scope{Subject: "user:other-teacher", ReadSchools: []int64{o.School.ID}}
	name := "Schulserver"
	own, err := x.db.CreateTicketCategory(ctx, x.authIT, cmdb.TicketCategoryInput{Class: "general", Name: &name})
	must(t, err)
	dup := "Sonstiges"
	if _, err := x.db.CreateTicketCategory(ctx, x.authIT, cmdb.TicketCategoryInput{Class: "general", Name: &dup}); cmdb.ErrorCode(err) != cmdb.ECONFLICT {
		t.Fatalf("a default's name again: %v", err)
	}
	if _, err := x.db.CreateTicketCategory(ctx, x.teacher, cmdb.TicketCategoryInput{AuthorityID: x.tn.Authority.ID, Class: "general", Name: &name}); cmdb.ErrorCode(err) != cmdb.EFORBIDDEN {
		t.Fatalf("teacher adds a category: %v", err)
	}
	if _, err := x.db.UpdateTicketCategory(ctx, otherIT, own.ID, 0, cmdb.TicketCategoryInput{Name: &dup}); cmdb.ErrorCode(err) != cmdb.ENOTFOUND {
		t.Fatalf("another authority renames it: %v", err)
	}
	off := false
	jam := x.cat["printer/Papierstau"]
	must(t, second(x.db.UpdateTicketCategory(ctx, x.authIT, jam, 0, cmdb.TicketCategoryInput{Active: &off})))
	names := func(db interface {
		FindTicketCategories(context.Context, cmdb.Scope, string) ([]*cmdb.TicketCategory, error)
	}, s cmdb.Scope) map[int64]bool {
		cats, err := db.FindTicketCategories(ctx, s, "printer")
		must(t, err)
		out := map[int64]bool{}
		for _, c := range cats {
			out[c.ID] = true
		}
		return out
	}
	if seen := names(x.db, x.teacher); seen[jam] || !seen[own.ID] {
		t.Fatalf("own authority: hidden default shown %v, own category shown %v", seen[jam], seen[own.ID])
	}
	if seen := names(x.db, otherTeacher); !seen[jam] || seen[own.ID] {
		t.Fatalf("other authority: its default hidden or our category shown")
	}
	tk := &cmdb.Ticket{Type: cmdb.TicketIncident, Title: "Papierstau", CategoryID: jam, Impact: 3, Urgency: 3, CIIDs: []int64{x.printer}}
	if _, err := x.db.CreateTicket(ctx, x.teacher, tk, ""); cmdb.ErrorField(err) != "category_id" {
		t.Fatalf("a hidden default: %v", err)
	}
	tk = &cmdb.Ticket{Type: cmdb.TicketIncident, Title: "Server", CategoryID: own.ID, Impact: 3, Urgency: 3, SchoolID: o.School.ID}
	if _, err := x.db.CreateTicket(ctx, otherIT, tk, ""); cmdb.ErrorField(err) != "category_id" {
		t.Fatalf("another authority's category: %v", err)
	}
}
