package postgres_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/schulit/cmdb/server/cmdb"
)

// kbTitles lists the titles of a search's page, in order.
func kbTitles(t *testing.T, x *ticketEnv, s cmdb.Scope, f cmdb.KBFilter) []string {
	t.Helper()
	got, total, err := x.db.FindKBArticles(context.Background(), s, f)
	must(t, err)
	if total < len(got) {
		t.Fatalf("total %d below the page of %d", total, len(got))
	}
	out := []string{}
	for _, a := range got {
		out = append(out, a.Title)
	}
	return out
}

func (x *ticketEnv) article(t *testing.T, a *cmdb.KBArticle) *cmdb.KBArticle {
	t.Helper()
	must(t, x.db.CreateKBArticle(context.Background(), x.authIT, a))
	return a
}

// TestKBArticleLifecycle: the authority's IT writes, changes and deletes
// articles; the body is rendered and sanitised on save; bad input is
// refused naming the field with nothing written; stale versions conflict;
// who reads what follows the store's scope: teachers only public
// articles, school IT and contracted providers all, everybody else none.
func TestKBArticleLifecycle(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	x := newTicketEnv(t, "KBL")
	otherIT, _ := x.otherAuthority(t, "KBX")
	a := x.tn.Authority.ID

	pub := x.article(t, &cmdb.KBArticle{Title: " Beamer zeigt kein Bild ", Public: true,
		BodyMD:  "Erst den **Eingang** prüfen.<script>alert(1)</script>\n\n[Anleitung](javascript:alert(2))",
		Classes: []string{"projector", " projector"}, Models: []string{"Epson  EB-W49", "epson eb-w49"}})
	if pub.ID == 0 || pub.AuthorityID != a || pub.Title != "Beamer zeigt kein Bild" || pub.Version != 1 ||
		pub.CreatedBy != x.authIT.Source() || !slices.Equal(pub.Classes, []string{"projector"}) || !slices.Equal(pub.Models, []string{"Epson EB-W49"}) {
		t.Fatalf("created %+v", pub)
	}
	if !strings.Contains(pub.BodyHTML, "<strong>Eingang</strong>") || strings.Contains(pub.BodyHTML, "<script") ||
		strings.Contains(pub.BodyHTML, "javascript:") {
		t.Errorf("body_html not rendered and sanitised: %s", pub.BodyHTML)
	}
	internal := x.article(t, &cmdb.KBArticle{Title: "Lampe im Epson-Beamer tauschen", BodyMD: "Nur mit Handschuhen."})
	if internal.Public || len(internal.Classes) != 0 || internal.Classes == nil {
		t.Fatalf("internal article %+v", internal)
	}

	// Bad input names the field, and nothing is written.
	for name, c := range map[string]struct {
		in    cmdb.KBArticle
		field string
	}{
		"no title":         {cmdb.KBArticle{Title: "  "}, "title"},
		"long title":       {cmdb.KBArticle{Title: strings.Repeat("x", 201)}, "title"},
		"long body":        {cmdb.KBArticle{Title: "x", BodyMD: strings.Repeat("x", cmdb.MaxKBBodyLen+1)}, "body_md"},
		"bad class":        {cmdb.KBArticle{Title: "x", Classes: []string{"projector", "toaster"}}, "classes[1]"},
		"empty model":      {cmdb.KBArticle{Title: "x", Models: []string{" "}}, "models[0]"},
		"bad category":     {cmdb.KBArticle{Title: "x", CategoryIDs: []int64{-1}}, "category_ids[0]"},
		"unknown category": {cmdb.KBArticle{Title: "x", CategoryIDs: []int64{x.cat["printer/Papierstau"], 999999}}, "category_ids[1]"},
		"unknown ticket":   {cmdb.KBArticle{Title: "x", SourceTicketID: 999999}, "source_ticket_id"},
	} {
		in := c.in
		err := x.db.CreateKBArticle(ctx, x.authIT, &in)
		if cmdb.ErrorCode(err) != cmdb.EINVALID || cmdb.ErrorField(err) != c.field {
			t.Errorf("%s: %v, want EINVALID on %s", name, err, c.field)
		}
	}
	if n := len(kbTitles(t, x, admin, cmdb.KBFilter{})); n != 2 {
		t.Fatalf("after refused creates: %d articles", n)
	}

	// Only the authority's IT writes.
	for name, c := range map[string]struct {
		s    cmdb.Scope
		code string
	}{
		"teacher": {x.teacher, cmdb.EFORBIDDEN}, "school IT": {x.schoolIT2, cmdb.EFORBIDDEN}, "provider": {x.providerIT, cmdb.EFORBIDDEN},
		"other authority": {otherIT, cmdb.EINVALID},
	} {
		err := x.db.CreateKBArticle(ctx, c.s, &cmdb.KBArticle{AuthorityID: a, Title: "Von außen"})
		if cmdb.ErrorCode(err) != c.code {
			t.Errorf("%s creates: %v, want %s", name, err, c.code)
		}
		if c.code == cmdb.EINVALID && cmdb.ErrorField(err) != "authority_id" {
			t.Errorf("%s creates: %v, want the field authority_id", name, err)
		}
	}

	// Update: rendered again, the version counts, a stale version conflicts.
	up, err := x.db.UpdateKBArticle(ctx, x.authIT, pub.ID, cmdb.KBArticleUpdate{BodyMD: ptr("Eingang auf *HDMI 1* stellen."), Version: ptr(1)})
	must(t, err)
	if up.Version != 2 || !strings.Contains(up.BodyHTML, "<em>HDMI 1</em>") || up.Title != pub.Title || !up.Public {
		t.Fatalf("updated %+v", up)
	}
	if _, err := x.db.UpdateKBArticle(ctx, x.authIT, pub.ID, cmdb.KBArticleUpdate{Title: ptr("Alt"), Version: ptr(1)}); cmdb.ErrorCode(err) != cmdb.ECONFLICT || cmdb.ErrorField(err) != "version" {
		t.Errorf("stale version: %v", err)
	}
	if _, err := x.db.UpdateKBArticle(ctx, x.authIT, pub.ID, cmdb.KBArticleUpdate{Title: ptr(" ")}); cmdb.ErrorField(err) != "title" {
		t.Errorf("empty title: %v", err)
	}
	if _, err := x.db.UpdateKBArticle(ctx, x.authIT, pub.ID, cmdb.KBArticleUpdate{CategoryIDs: &[]int64{999999}}); cmdb.ErrorField(err) != "category_ids[0]" {
		t.Errorf("unknown category: %v", err)
	}
	if got, err := x.db.FindKBArticleByID(ctx, x.authIT, pub.ID); err != nil || got.Version != 2 || got.Title != pub.Title || len(got.CategoryIDs) != 0 {
		t.Errorf("after refused updates: %+v, %v", got, err)
	}

	// Who reads what.
	for name, c := range map[string]struct {
		s    cmdb.Scope
		sees []int64
	}{
		"authority IT": {x.authIT, []int64{internal.ID, pub.ID}},
		"school IT":    {x.schoolIT2, []int64{internal.ID, pub.ID}},
		"provider":     {x.providerIT, []int64{internal.ID, pub.ID}},
		"teacher":      {x.teacher, []int64{pub.ID}},
		"other":        {otherIT, nil},
	} {
		list, n, err := x.db.FindKBArticles(ctx, c.s, cmdb.KBFilter{})
		must(t, err)
		var ids []int64
		for _, it := range list {
			ids = append(ids, it.ID)
		}
		slices.Sort(ids)
		slices.Sort(c.sees)
		if !slices.Equal(ids, c.sees) || n != len(c.sees) {
			t.Errorf("%s lists %v (total %d), want %v", name, ids, n, c.sees)
		}
		for _, id := range []int64{pub.ID, internal.ID} {
			_, err := x.db.FindKBArticleByID(ctx, c.s, id)
			if want := slices.Contains(c.sees, id); want && err != nil || !want && cmdb.ErrorCode(err) != cmdb.ENOTFOUND {
				t.Errorf("%s finds article %d: %v (sees %v)", name, id, err, want)
			}
		}
	}
	// A provider without a contract with the authority sees nothing of it.
	lone := &cmdb.Provider{Code: "KBL-LONE", Name: "Fremdfirma"}
	must(t, x.db.CreateProvider(ctx, admin, lone))
	loneScope := cmdb.Scope{Subject: "user:lone", Providers: []int64{lone.ID}}
	if _, n, _ := x.db.FindKBArticles(ctx, loneScope, cmdb.KBFilter{}); n != 0 {
		t.Errorf("a provider without a contract lists %d articles", n)
	}
	if _, err := x.db.FindKBArticleByID(ctx, loneScope, internal.ID); cmdb.ErrorCode(err) != cmdb.ENOTFOUND {
		t.Errorf("a provider without a contract finds an article: %v", err)
	}

	// Changes by readers: forbidden where they read, not found elsewhere.
	for name, c := range map[string]struct {
		s    cmdb.Scope
		id   int64
		code string
	}{
		"teacher, public":   {x.teacher, pub.ID, cmdb.EFORBIDDEN},
		"teacher, internal": {x.teacher, internal.ID, cmdb.ENOTFOUND},
		"provider":          {x.providerIT, internal.ID, cmdb.EFORBIDDEN},
		"school IT":         {x.schoolIT2, internal.ID, cmdb.EFORBIDDEN},
		"other authority":   {otherIT, pub.ID, cmdb.ENOTFOUND},
	} {
		if _, err := x.db.UpdateKBArticle(ctx, c.s, c.id, cmdb.KBArticleUpdate{Title: ptr("Geändert")}); cmdb.ErrorCode(err) != c.code {
			t.Errorf("%s updates: %v, want %s", name, err, c.code)
		}
		if err := x.db.DeleteKBArticle(ctx, c.s, c.id); cmdb.ErrorCode(err) != c.code {
			t.Errorf("%s deletes: %v, want %s", name, err, c.code)
		}
	}

	// Making the public article internal hides it from teachers.
	must(t, second2(x.db.UpdateKBArticle(ctx, x.authIT, pub.ID, cmdb.KBArticleUpdate{Public: ptr(false)})))
	if _, err := x.db.FindKBArticleByID(ctx, x.teacher, pub.ID); cmdb.ErrorCode(err) != cmdb.ENOTFOUND {
		t.Errorf("teacher finds an article made internal: %v", err)
	}
	must(t, x.db.DeleteKBArticle(ctx, x.authIT, pub.ID))
	if _, err := x.db.FindKBArticleByID(ctx, x.authIT, pub.ID); cmdb.ErrorCode(err) != cmdb.ENOTFOUND {
		t.Errorf("deleted article: %v", err)
	}
	if err := x.db.DeleteKBArticle(ctx, x.authIT, pub.ID); cmdb.ErrorCode(err) != cmdb.ENOTFOUND {
		t.Errorf("deleted twice: %v", err)
	}
}

// TestKBSearch: German full-text search with stemming, the fallback for
// half-typed and odd input, and the tag filters with specific fits first.
func TestKBSearch(t *testing.T) {
	t.Parallel()
	x := newTicketEnv(t, "KBS")
	x.article(t, &cmdb.KBArticle{Title: "Beamer zeigt kein Bild", Public: true, BodyMD: "Eingang am Beamer auf HDMI 1 stellen.",
		Classes: []string{"projector"}, Models: []string{"Epson EB-W49"}, CategoryIDs: []int64{x.cat["projector/Kein Bild"]}})
	x.article(t, &cmdb.KBArticle{Title: "HP-4250 zieht kein Papier", Public: true, BodyMD: "Einzugsrollen reinigen, Papier fächern.",
		Classes: []string{"printer"}, Models: []string{"HP LaserJet 4250"}, CategoryIDs: []int64{x.cat["printer/Papierstau"]}})
	x.article(t, &cmdb.KBArticle{Title: "WLAN im Lehrerzimmer", Public: true, BodyMD: "Neu verbinden mit dem Netz »Schule«."})
	x.article(t, &cmdb.KBArticle{Title: "Beamer-Lampe tauschen (intern)", BodyMD: "Lampe bestellen über den Dienstleister.",
		Classes: []string{"projector"}})

	beamer, hp, wlan, lampe := "Beamer zeigt kein Bild", "HP-4250 zieht kein Papier", "WLAN im Lehrerzimmer", "Beamer-Lampe tauschen (intern)"
	for _, c := range []struct {
		s    cmdb.Scope
		f    cmdb.KBFilter
		want []string
	}{
		// Stemming: "Bildes" is "Bild", "Beamern" "Beamer"; case does not matter.
		{x.teacher, cmdb.KBFilter{Query: "Bildes"}, []string{beamer}},
		{x.teacher, cmdb.KBFilter{Query: "beamer"}, []string{beamer}},
		{x.authIT, cmdb.KBFilter{Query: "Beamern"}, []string{beamer, lampe}},
		{x.teacher, cmdb.KBFilter{Query: "Papiers"}, []string{hp}},
		{x.teacher, cmdb.KBFilter{Query: `"kein Bild"`}, []string{beamer}},
		{x.teacher, cmdb.KBFilter{Query: "Beamer -HDMI"}, []string{}},
		// Odd input: model numbers, punctuation, half-typed words.
		{x.teacher, cmdb.KBFilter{Query: "HP-4250"}, []string{hp}},
		{x.teacher, cmdb.KBFilter{Query: "4250"}, []string{hp}},
		{x.teacher, cmdb.KBFilter{Query: "Lehrerzim"}, []string{wlan}},
		{x.teacher, cmdb.KBFilter{Query: "Beamer Toaster"}, []string{beamer}},
		{x.teacher, cmdb.KBFilter{Query: "!!! ??? :* & | ("}, []string{}},
		{x.teacher, cmdb.KBFilter{Query: "\"(Bild"}, []string{beamer}},
		{x.teacher, cmdb.KBFilter{Query: "»Schule«"}, []string{wlan}},
		{x.teacher, cmdb.KBFilter{Query: "kein"}, []string{}}, // a stop word finds nothing, and fails nothing
		// Tags: an untagged article fits everything, tagged ones first.
		{x.teacher, cmdb.KBFilter{Class: "projector"}, []string{beamer, wlan}},
		{x.authIT, cmdb.KBFilter{Class: "projector"}, []string{lampe, beamer, wlan}},
		{x.teacher, cmdb.KBFilter{Class: "printer"}, []string{hp, wlan}},
		{x.teacher, cmdb.KBFilter{Model: " epson  eb-w49 "}, []string{beamer, wlan}},
		{x.teacher, cmdb.KBFilter{CategoryID: x.cat["printer/Papierstau"]}, []string{hp, wlan}},
		{x.teacher, cmdb.KBFilter{Class: "projector", Query: "Bild"}, []string{beamer}},
		{x.authIT, cmdb.KBFilter{PublicOnly: true, Class: "projector"}, []string{beamer, wlan}},
		{x.teacher, cmdb.KBFilter{Class: "laptop"}, []string{wlan}},
	} {
		if got := kbTitles(t, x, c.s, c.f); !slices.Equal(got, c.want) {
			t.Errorf("%+v: got %q, want %q", c.f, got, c.want)
		}
	}
	// Paging: total counts every match.
	page, total, err := x.db.FindKBArticles(context.Background(), x.authIT, cmdb.KBFilter{Limit: 1, Offset: 1})
	must(t, err)
	if len(page) != 1 || total != 4 {
		t.Errorf("page: %d of %d", len(page), total)
	}
	for f, field := range map[string]cmdb.KBFilter{"class": {Class: "toaster"}, "limit": {Limit: 500}, "offset": {Offset: -1},
		"q": {Query: strings.Repeat("Beamer ", 100)}, "category_id": {CategoryID: -1}, "authority_id": {AuthorityID: -1}} {
		if _, _, err := x.db.FindKBArticles(context.Background(), x.authIT, field); cmdb.ErrorCode(err) != cmdb.EINVALID || cmdb.ErrorField(err) != f {
			t.Errorf("bad filter %s: %v", f, err)
		}
	}
}

// TestKBDraftFromTicket: a resolved ticket's description and last public
// comment become an internal draft tagged like the ticket; open tickets,
// tickets without a public comment and callers who may not write are
// refused.
func TestKBDraftFromTicket(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	x := newTicketEnv(t, "KBD")
	otherIT, _ := x.otherAuthority(t, "KBY")
	res := reconcile(t, x.db, cmdb.Observation{Source: "agent", AuthorityID: x.tn.Authority.ID, SchoolID: x.tn.School.ID, RoomID: x.tn.Room.ID,
		Class: "projector", Serial: "KBD-B2", Vendor: "Epson", Attributes: map[string]string{"model": "EB-W49"}})
	beamer := res.Items[0].CIID
	tk := &cmdb.Ticket{Type: cmdb.TicketIncident, Title: "Beamer in Raum 1.12 zeigt kein Bild", Description: "Seit Montag bleibt die Leinwand blau.",
		CategoryID: x.cat["projector/Kein Bild"], Impact: 3, Urgency: 2, CIIDs: []int64{beamer, x.projector}}
	must(t, second2(x.db.CreateTicket(ctx, x.teacher, tk, "")))

	if _, err := x.db.DraftKBArticleFromTicket(ctx, x.authIT, tk.ID); cmdb.ErrorCode(err) != cmdb.ECONFLICT || cmdb.ErrorField(err) != "status" {
		t.Errorf("draft from an open ticket: %v", err)
	}
	must(t, second2(x.db.UpdateTicket(ctx, x.authIT, tk.ID, cmdb.TicketUpdate{Status: ptr(cmdb.StatusResolved)})))
	must(t, x.db.AddTicketComment(ctx, x.authIT, &cmdb.TicketComment{TicketID: tk.ID, Body: "Intern: Kabel war locker.", Internal: true}))
	if _, err := x.db.DraftKBArticleFromTicket(ctx, x.authIT, tk.ID); cmdb.ErrorCode(err) != cmdb.ECONFLICT || cmdb.ErrorField(err) != "comments" {
		t.Errorf("draft without a public comment: %v", err)
	}
	must(t, x.db.AddTicketComment(ctx, x.authIT, &cmdb.TicketComment{TicketID: tk.ID, Body: "Erster Versuch: Neustart."}))
	must(t, x.db.AddTicketComment(ctx, x.authIT, &cmdb.TicketComment{TicketID: tk.ID, Body: "Eingang am Beamer auf **HDMI 1** gestellt."}))
	must(t, x.db.AddTicketComment(ctx, x.authIT, &cmdb.TicketComment{TicketID: tk.ID, Body: "Intern: nachher geprüft.", Internal: true}))

	for name, c := range map[string]struct {
		s    cmdb.Scope
		code string
	}{"teacher (reporter)": {x.teacher, cmdb.EFORBIDDEN}, "provider": {x.providerIT, cmdb.ENOTFOUND}, "other authority": {otherIT, cmdb.ENOTFOUND}} {
		if _, err := x.db.DraftKBArticleFromTicket(ctx, c.s, tk.ID); cmdb.ErrorCode(err) != c.code {
			t.Errorf("%s drafts: %v, want %s", name, err, c.code)
		}
	}
	d, err := x.db.DraftKBArticleFromTicket(ctx, x.authIT, tk.ID)
	must(t, err)
	if d.Public || d.SourceTicketID != tk.ID || d.Title != tk.Title || d.AuthorityID != x.tn.Authority.ID || d.Version != 1 ||
		!slices.Equal(d.Classes, []string{"projector"}) || !slices.Equal(d.Models, []string{"Epson EB-W49"}) ||
		!slices.Equal(d.CategoryIDs, []int64{tk.CategoryID}) {
		t.Fatalf("draft %+v", d)
	}
	if !strings.Contains(d.BodyMD, "Seit Montag bleibt die Leinwand blau.") || !strings.Contains(d.BodyMD, "## Lösung\n\nEingang am Beamer auf **HDMI 1** gestellt.") ||
		strings.Contains(d.BodyMD, "Intern") || strings.Contains(d.BodyMD, "Neustart") || !strings.Contains(d.BodyHTML, "<strong>HDMI 1</strong>") {
		t.Errorf("draft body:\n%s\n%s", d.BodyMD, d.BodyHTML)
	}
	// A draft is internal: the teacher who reported it does not see it
	// until IT publishes it.
	if _, err := x.db.FindKBArticleByID(ctx, x.teacher, d.ID); cmdb.ErrorCode(err) != cmdb.ENOTFOUND {
		t.Errorf("teacher sees the draft: %v", err)
	}
	must(t, second2(x.db.UpdateKBArticle(ctx, x.authIT, d.ID, cmdb.KBArticleUpdate{Public: ptr(true)})))
	if got := kbTitles(t, x, x.teacher, cmdb.KBFilter{Query: "Leinwand blau"}); !slices.Equal(got, []string{tk.Title}) {
		t.Errorf("teacher searching the published draft: %q", got)
	}
	// A resolved ticket without any comment has no solution to take.
	tk2 := x.open(t, x.authIT, "Papierstau", x.printer)
	must(t, second2(x.db.UpdateTicket(ctx, x.authIT, tk2.ID, cmdb.TicketUpdate{Status: ptr(cmdb.StatusResolved)})))
	if _, err := x.db.DraftKBArticleFromTicket(ctx, x.authIT, tk2.ID); cmdb.ErrorField(err) != "comments" {
		t.Errorf("resolved ticket without comments: %v", err)
	}
}
