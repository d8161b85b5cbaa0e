package demo

import (
	"context"
	"fmt"
	"time"

	"github.com/schulit/cmdb/server/cmdb"
)

// The planned tickets of the demo year, each showing one thing: the
// repeat-failure printer, the pattern model, service requests, and SLA
// breaches and due times.

// repeatPrinter gives one printer RepeatIncidents incidents in the last
// year, so that it is flagged as a replacement candidate.
func (p *ticketPlan) repeatPrinter() error {
	school := p.schools[0]
	ages := []float64{330, 240, 150, 70, 12}[:RepeatIncidents]
	prs := problems[cmdb.ClassPrinter]
	for i, age := range ages {
		pr := prs[i%2] // jams and dead queues, again and again
		t, err := p.incident(school, p.repeat, cmdb.ClassPrinter, pr)
		if err != nil {
			return err
		}
		t.Impact, t.Urgency = 2, 2
		at := p.opened(age)
		dt := p.add(t, p.reporter(school, &t), at)
		st := cmdb.StatusClosed
		if i == len(ages)-1 {
			st = cmdb.StatusInProgress
		}
		p.live(dt, at, life{status: st, provider: p.c.providerOf[cmdb.ClassPrinter], solution: pr.Solution, internal: i >= 3})
	}
	return nil
}

// patternModel gives PatternDevices projectors of the demo's most common
// projector model two incidents each in the last year, and the other
// projectors a few: the model's rate stands out as a pattern.
func (p *ticketPlan) patternModel() error {
	type key struct{ vendor, model string }
	byModel := map[key][]*cmdb.CI{}
	var all []*cmdb.CI
	for _, school := range p.schools {
		for _, ci := range p.cis[school][cmdb.ClassProjector] {
			if ci.Vendor != "" && ci.Model != "" {
				byModel[key{ci.Vendor, ci.Model}] = append(byModel[key{ci.Vendor, ci.Model}], ci)
				all = append(all, ci)
			}
		}
	}
	var best key
	for k, l := range byModel {
		if b := byModel[best]; len(l) > len(b) || (len(l) == len(b) && k.vendor+k.model < best.vendor+best.model) {
			best = k
		}
	}
	devs := byModel[best]
	if len(devs) < 3 {
		return fmt.Errorf("demo: the most common projector model has only %d devices", len(devs))
	}
	p.pattern = [2]string{best.vendor, best.model}
	n := min(PatternDevices, len(devs))
	prs := problems[cmdb.ClassProjector]
	provider := p.c.providerOf[cmdb.ClassProjector]
	for i := range n {
		ci := devs[i*len(devs)/n]
		for j := range 2 {
			pr := prs[1+j] // the lamp, and a yellow blur: the model's weakness
			t, err := p.incident(ci.SchoolID, ci, cmdb.ClassProjector, pr)
			if err != nil {
				return err
			}
			age := 20 + float64((i*53+j*160)%330)
			st := cmdb.StatusClosed
			if i == 0 && j == 1 {
				age, st = 3, cmdb.StatusWaiting
			}
			at := p.opened(age)
			dt := p.add(t, p.reporter(ci.SchoolID, &t), at)
			p.live(dt, at, life{status: st, provider: provider, solution: pr.Solution, internal: j == 1})
		}
	}
	// The rest of the class fails now and then.
	var rest []*cmdb.CI
	for _, ci := range all {
		if (key{ci.Vendor, ci.Model}) != best {
			rest = append(rest, ci)
		}
	}
	for i := 0; i < 3 && len(rest) > 0; i++ {
		ci := rest[(i*7)%len(rest)]
		pr := prs[i%len(prs)]
		if i == 1 {
			pr = prs[3]
		}
		t, err := p.incident(ci.SchoolID, ci, cmdb.ClassProjector, pr)
		if err != nil {
			return err
		}
		at := p.opened(40 + float64(i*90))
		dt := p.add(t, p.reporter(ci.SchoolID, &t), at)
		p.live(dt, at, life{status: cmdb.StatusClosed, provider: provider, solution: pr.Solution})
	}
	return nil
}

// requests are service requests against the demo catalogue.
func (p *ticketPlan) requests() error {
	type req struct {
		service string
		title   string
		answers map[string]any
		status  string
		age     float64
	}
	list := []req{
		{services[0].Name, "GeoGebra im PC-Kabinett 1", map[string]any{"software": "GeoGebra Classic 6", "lizenz": "Freie Software"}, cmdb.StatusClosed, 200},
		{services[0].Name, "Scratch 3 im Computerraum", map[string]any{"software": "Scratch 3.29", "lizenz": "Freie Software", "hinweise": "Für die AG am Donnerstag."}, cmdb.StatusClosed, 120},
		{services[0].Name, "Audacity für den Musikunterricht", map[string]any{"software": "Audacity 3.4", "lizenz": "Freie Software"}, cmdb.StatusInProgress, 2},
		{services[0].Name, "SolidWorks im CAD-Raum aktualisieren", map[string]any{"software": "SolidWorks 2025", "lizenz": "Ja, Schullizenz"}, cmdb.StatusWaiting, 9},
		{services[0].Name, "Mathe-Software für die 5. Klassen", map[string]any{"software": "Mathegym", "lizenz": "Weiß ich nicht"}, cmdb.StatusNew, 0.3},
		{services[1].Name, "Konto für neue Kollegin", map[string]any{"name": "Lea Hofmann", "rolle": "Lehrkraft", "ab": "2026-02-01"}, cmdb.StatusClosed, 60},
		{services[1].Name, "Konto für Referendar", map[string]any{"name": "Max Keller", "rolle": "Referendariat", "ab": "2025-08-01"}, cmdb.StatusClosed, 300},
		{services[1].Name, "Konto für die Schulverwaltung", map[string]any{"name": "Ina Brandt", "rolle": "Verwaltung", "ab": "2026-01-01"}, cmdb.StatusResolved, 1.5},
		{services[2].Name, "Beamer aus Raum 1.14 in die Aula", map[string]any{"von": "Raum 1.14", "nach": "Aula"}, cmdb.StatusClosed, 90},
		{services[2].Name, "Display im Lehrerzimmer montieren", map[string]any{"von": "Lager", "nach": "Lehrerzimmer"}, cmdb.StatusAssigned, 1},
	}
	for i, rq := range list {
		school := p.schools[i%len(p.schools)]
		t := cmdb.Ticket{Type: cmdb.TicketRequest, Title: rq.title, SchoolID: school, ServiceID: p.services[rq.service],
			FormAnswers: rq.answers, Impact: 3, Urgency: 2 + p.pick(2)}
		at := p.opened(rq.age)
		dt := p.add(t, p.reporter(school, &t), at)
		var provider int64
		for _, sd := range services {
			if sd.Name == rq.service {
				provider = p.c.providers[sd.Provider]
			}
		}
		p.live(dt, at, life{status: rq.status, provider: provider, solution: "Erledigt – bitte kurz prüfen."})
	}
	return nil
}

// slaTickets are open tickets nobody answered: BreachedTickets opened
// days ago, past their due times, and two opened so recently that their
// first response is due within the hour (when the authority's business
// hours allow; else they are simply new).
func (p *ticketPlan) slaTickets(ctx context.Context, s Store, scope cmdb.Scope) error {
	classes := []string{cmdb.ClassLaptop, cmdb.ClassAccessPoint, cmdb.ClassDesktop, classGeneral}
	for i := range BreachedTickets {
		school := p.schools[(i+1)%len(p.schools)]
		class := classes[i%len(classes)]
		ci := p.spare(school, class)
		if ci == nil {
			class = classGeneral
		}
		pr := problems[class][0]
		t, err := p.incident(school, ci, class, pr)
		if err != nil {
			return err
		}
		t.Impact, t.Urgency = 2, 1+i%2
		at := p.opened(8 + float64(i*4))
		p.add(t, p.reporter(school, &t), at)
	}

	cal, err := s.FindCalendar(ctx, scope, p.ids.authority)
	if err != nil {
		return fmt.Errorf("demo: calendar: %w", err)
	}
	bc, err := cmdb.NewBusinessCalendar(cal)
	if err != nil {
		return fmt.Errorf("demo: calendar: %w", err)
	}
	targets, err := s.FindSLATargets(ctx, scope, p.ids.authority)
	if err != nil {
		return fmt.Errorf("demo: SLA targets: %w", err)
	}
	soon := []struct {
		class   string
		impact  int
		urgency int
	}{{cmdb.ClassMFP, 1, 1}, {cmdb.ClassDisplay, 2, 1}}
	for i, sn := range soon {
		school, class := p.schools[i], sn.class
		ci := p.spare(school, class)
		if ci == nil {
			class = classGeneral
		}
		pr := problems[class][0]
		t, err := p.incident(school, ci, class, pr)
		if err != nil {
			return err
		}
		t.Impact, t.Urgency = sn.impact, sn.urgency
		prio, err := cmdb.DefaultPriorityMatrix.Priority(sn.impact, sn.urgency)
		if err != nil {
			return err
		}
		target, err := targets.For(prio)
		if err != nil {
			return err
		}
		at := p.now.Add(-3 * time.Minute)
		for back := 5 * time.Minute; back < time.Hour; back += time.Minute {
			o := p.now.Add(-back)
			due, err := bc.Due(o, target.FirstResponse, nil)
			if err == nil && due.After(p.now.Add(10*time.Minute)) && due.Before(p.now.Add(50*time.Minute)) {
				at = o
				break
			}
		}
		p.add(t, p.reporter(school, &t), at)
	}
	return nil
}

// spare returns a CI of the class in the school without everyday
// incidents (nil: none), for a ticket that should not make it a repeat
// failure.
func (p *ticketPlan) spare(school int64, class string) *cmdb.CI {
	if class == classGeneral {
		return nil
	}
	for _, ci := range p.cis[school][class] {
		if p.used[ci.ID] == 0 && ci != p.repeat {
			return ci
		}
	}
	return nil
}
