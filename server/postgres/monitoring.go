package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	"github.com/schulit/cmdb/server/cmdb"
)

var (
	_ cmdb.MonitoringStore = (*DB)(nil)
	_ cmdb.HealthBatchSink = (*MonitoringSink)(nil)
)

// monitoringSubject is who monitoring acts as: tickets it opens say
// created_by "monitoring".
const monitoringSubject = "monitoring"

// MonitoringSink is the health sink of the ticket module: a health event
// opens or updates one ticket per CI and kind, by the authority's
// monitoring rules, and the recovery resolves it when the rule says so.
// It acts in the system's scope (the poller runs without a user). Safe
// for concurrent use; see HealthEvent.
type MonitoringSink struct {
	db *DB
	// workers bounds the CIs HealthEvents handles at once.
	workers int
}

// MonitoringSink returns the store's health sink.
func (db *DB) MonitoringSink() *MonitoringSink { return &MonitoringSink{db: db, workers: 8} }

// HealthEvent takes one event; see cmdb.HealthSink.
//
//   - A condition opening on a CI without an open monitoring ticket for
//     its kind opens one, if the authority's rule says so (else the event
//     is taken and nothing happens).
//   - While one is open, a repeat is counted on the link (one UPDATE, no
//     comment); a new subject (a second empty toner) or a materially new
//     detail adds one public comment.
//   - A condition clearing removes its subject; when the last one clears
//     and the rule auto-resolves, the ticket is resolved with a public
//     comment saying when, else a comment says it cleared and the ticket
//     stays open for a person.
//   - A condition coming back after its recovery resolved the ticket
//     reopens that ticket (resolved → in progress, with a comment) while
//     it may be reopened (cmdb.DefaultReopenWindow), so a flapping device
//     keeps one ticket.
//   - A ticket a person resolved or closed no longer takes events: the
//     next opening event opens a new ticket.
//
// A second open ticket for one CI and kind is impossible: events of one
// CI and kind are serialised by an advisory lock, and a partial unique
// index backs it. EINVALID for an event without CI or with an unknown
// kind, ENOTFOUND for a CI that does not exist.
func (m *MonitoringSink) HealthEvent(ctx context.Context, e cmdb.HealthEvent) error {
	if e.CIID <= 0 {
		return cmdb.Invalid("ci_id", "is required")
	}
	if !cmdb.ValidHealthKind(e.Kind) {
		return cmdb.Invalid("kind", "must be a health kind, not %q", e.Kind)
	}
	if e.At.IsZero() {
		e.At = m.db.now()
	}
	db := m.db
	// The fast paths, one statement each, for what most events are: a
	// repeat of a condition an open ticket already has, and the recovery
	// of a condition that has no ticket.
	if e.Open {
		st, err := db.prepare(ctx, `UPDATE monitoring_tickets l SET events = l.events + 1, last_seen = greatest(l.last_seen, $4)
			FROM tickets t WHERE l.ci_id = $1 AND l.kind = $2 AND l.closed_at IS NULL AND l.cleared_at IS NULL
				AND $3 = ANY(l.open_subjects) AND l.detail_key = $5
				AND t.id = l.ticket_id AND t.status NOT IN ('resolved', 'closed')`)
		if err != nil {
			return mapErr("postgres.HealthEvent", err)
		}
		res, err := st.ExecContext(ctx, e.CIID, e.Kind, e.Subject, e.At, cmdb.MaterialDetail(e.Detail))
		if err != nil {
			return mapErr("postgres.HealthEvent", err)
		}
		if n, _ := res.RowsAffected(); n > 0 {
			return nil
		}
	} else {
		var open bool
		st, err := db.prepare(ctx, `SELECT EXISTS (SELECT 1 FROM monitoring_tickets
				WHERE ci_id = $1 AND kind = $2 AND closed_at IS NULL AND cleared_at IS NULL)`)
		if err != nil {
			return mapErr("postgres.HealthEvent", err)
		}
		if err := st.GetContext(ctx, &open, e.CIID, e.Kind); err != nil {
			return mapErr("postgres.HealthEvent", err)
		} else if !open {
			return nil
		}
	}
	err := db.inTx(ctx, func(tx *sqlx.Tx) error { return m.event(ctx, tx, e) })
	return mapErr("postgres.HealthEvent", err)
}

// HealthEvents takes many events, e.g. a round's; see
// cmdb.HealthBatchSink. Events of different CIs are handled concurrently
// (at most 8 CIs at once), those of one CI in order; after an event of a
// CI fails, that CI's later events fail with the same error, so that the
// poller offers them again in order.
func (m *MonitoringSink) HealthEvents(ctx context.Context, events []cmdb.HealthEvent) []error {
	errs := make([]error, len(events))
	byCI := map[int64][]int{}
	var order []int64
	for i, e := range events {
		if _, ok := byCI[e.CIID]; !ok {
			order = append(order, e.CIID)
		}
		byCI[e.CIID] = append(byCI[e.CIID], i)
	}
	sem := make(chan struct{}, m.workers)
	var wg sync.WaitGroup
	for _, ci := range order {
		wg.Add(1)
		sem <- struct{}{}
		go func(idx []int) {
			defer func() { <-sem; wg.Done() }()
			var failed error
			for _, i := range idx {
				if failed == nil {
					failed = m.HealthEvent(ctx, events[i])
				}
				errs[i] = failed
			}
		}(byCI[ci])
	}
	wg.Wait()
	return errs
}

// monitoringLink is an open monitoring ticket of a CI and kind.
type monitoringLink struct {
	ID           int64
	TicketID     int64
	TicketStatus string
	Subjects     pq.StringArray
	DetailKey    string
	Cleared      bool
	// AutoResolved: monitoring resolved the ticket by recovery.
	AutoResolved bool
	ResolvedAt   *time.Time
}

// event handles one event in tx; see HealthEvent.
func (m *MonitoringSink) event(ctx context.Context, tx *sqlx.Tx, e cmdb.HealthEvent) error {
	db := m.db
	// A CI merged into another is that other one now.
	var ci struct {
		ID, Authority, School, Room int64
		Class, Name                 string
		Retired                     bool
	}
	// The lock (on the CI it is now, and the kind) is taken in the same
	// statement that finds the CI: events of one CI and kind wait for
	// each other from here on.
	st, err := db.txStmt(ctx, tx, `SELECT s.id, s.authority_id, coalesce(s.school_id, 0), coalesce(s.room_id, 0), s.class,
			coalesce(nullif(s.name, ''), nullif(s.hostname, ''), nullif(btrim(s.vendor || ' ' || s.model), ''), 'CI ' || s.id),
			s.status IN ('retired', 'disposed'),
			pg_advisory_xact_lock(hashtextextended('monitoring|' || s.id || '|' || $2::text, 12)) IS NULL
		FROM cis c JOIN cis s ON s.id = coalesce(c.merged_into, c.id) WHERE c.id = $1`)
	if err != nil {
		return err
	}
	var locked bool
	err = st.QueryRowxContext(ctx, e.CIID, e.Kind).Scan(&ci.ID, &ci.Authority, &ci.School, &ci.Room, &ci.Class, &ci.Name, &ci.Retired, &locked)
	if err == sql.ErrNoRows {
		return notFound("CI", e.CIID)
	} else if err != nil {
		return err
	}
	e.CIID = ci.ID
	var l monitoringLink
	if st, err = db.txStmt(ctx, tx, `SELECT l.id, l.ticket_id, t.status, l.open_subjects, l.detail_key, l.cleared_at IS NOT NULL,
			l.auto_resolved_at IS NOT NULL, t.resolved_at
		FROM monitoring_tickets l JOIN tickets t ON t.id = l.ticket_id
		WHERE l.ci_id = $1 AND l.kind = $2 AND l.closed_at IS NULL FOR UPDATE OF l`); err != nil {
		return err
	}
	err = st.QueryRowxContext(ctx, e.CIID, e.Kind).
		Scan(&l.ID, &l.TicketID, &l.TicketStatus, &l.Subjects, &l.DetailKey, &l.Cleared, &l.AutoResolved, &l.ResolvedAt)
	found := err == nil
	if err != nil && err != sql.ErrNoRows {
		return err
	}
	now := db.now()
	if found && l.TicketStatus == cmdb.StatusResolved && l.AutoResolved {
		if !e.Open {
			return nil // its recovery was taken already
		}
		if cmdb.CheckTransition(cmdb.StatusResolved, cmdb.StatusInProgress, l.ResolvedAt, now, cmdb.DefaultReopenWindow) == nil {
			return m.reopen(ctx, tx, e, &l, now)
		}
	}
	if found && (l.TicketStatus == cmdb.StatusResolved || l.TicketStatus == cmdb.StatusClosed) {
		// A person resolved or closed it, or it is past reopening: it
		// takes no more events.
		if _, err := tx.ExecContext(ctx, `UPDATE monitoring_tickets SET closed_at = $2 WHERE id = $1`, l.ID, now); err != nil {
			return err
		}
		found = false
	}
	if !e.Open {
		if !found {
			return nil
		}
		return m.clear(ctx, tx, e, &l, ci.Authority, now)
	}
	if found {
		return m.repeat(ctx, tx, e, &l, now)
	}
	if ci.Retired {
		return nil // a device out of service gets no new tickets
	}
	rule, err := m.db.monitoringRuleTx(ctx, tx, ci.Authority, e.Kind)
	if err != nil || !rule.OpensTicket {
		return err
	}
	cat, err := monitoringCategory(ctx, tx, ci.Authority, ci.Class, cmdb.MonitoringCategory(e.Kind, ci.Class, e.Subject))
	if err != nil {
		return err
	}
	t := &cmdb.Ticket{
		Type: cmdb.TicketIncident, Title: cmdb.MonitoringTitle(e.Kind, e.Subject, ci.Name),
		Description: monitoringDescription(e), CategoryID: cat, Impact: rule.Impact, Urgency: rule.Urgency,
		Level: rule.Level, ProviderID: rule.ProviderID, Channel: cmdb.ChannelMonitoring, CIIDs: []int64{e.CIID}, RoomID: ci.Room,
	}
	if _, err := db.createTicket(ctx, tx, cmdb.AdminScope(monitoringSubject), t, ""); err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO monitoring_tickets (ticket_id, ci_id, kind, open_subjects, detail, detail_key, first_seen, last_seen)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $7)`, t.ID, e.CIID, e.Kind, pq.Array([]string{e.Subject}), e.Detail,
		cmdb.MaterialDetail(e.Detail), e.At)
	return err
}

// repeat takes an opening event for a CI and kind with an open ticket:
// counted always, commented only when it is news.
func (m *MonitoringSink) repeat(ctx context.Context, tx *sqlx.Tx, e cmdb.HealthEvent, l *monitoringLink, now time.Time) error {
	key := cmdb.MaterialDetail(e.Detail)
	newSubject := !slices.Contains(l.Subjects, e.Subject)
	subjects := l.Subjects
	if newSubject {
		subjects = append(subjects, e.Subject)
	}
	if err := m.db.txExec(ctx, tx, `UPDATE monitoring_tickets SET events = events + 1, last_seen = greatest(last_seen, $2),
		open_subjects = $3, detail = $4, detail_key = $5, cleared_at = NULL WHERE id = $1`,
		l.ID, e.At, pq.Array(subjects), e.Detail, key); err != nil {
		return err
	}
	var body string
	switch {
	case l.Cleared:
		body = "Die Störung ist erneut aufgetreten am " + germanTime(e.At) + " (automatisch erkannt)."
	case newSubject:
		body = "Ebenfalls betroffen: " + e.Subject + " (automatisch erkannt)."
	case key != l.DetailKey:
		body = "Neuer Stand (automatisch erkannt)."
	default:
		return nil
	}
	if e.Detail != "" {
		body += "\nMeldung des Geräts: " + e.Detail
	}
	return m.db.monitoringComment(ctx, tx, l.TicketID, body, now)
}

// reopen takes an opening event for a CI and kind whose ticket monitoring
// resolved by recovery: the ticket is open again, in progress, with a
// comment saying when the condition came back.
func (m *MonitoringSink) reopen(ctx context.Context, tx *sqlx.Tx, e cmdb.HealthEvent, l *monitoringLink, now time.Time) error {
	body := "Die Störung ist erneut aufgetreten am " + germanTime(e.At) + "; das Ticket ist wieder offen (automatisch erkannt)."
	if e.Detail != "" {
		body += "\nMeldung des Geräts: " + e.Detail
	}
	return m.db.monitoringUpdate(ctx, tx, l.TicketID, body, now, cmdb.StatusResolved, cmdb.StatusInProgress, &linkChange{l.ID,
		`events = events + 1, last_seen = greatest(last_seen, $9), open_subjects = $10, detail = $11, detail_key = $12,
			cleared_at = NULL, auto_resolved_at = NULL`,
		[]any{e.At, pq.Array([]string{e.Subject}), e.Detail, cmdb.MaterialDetail(e.Detail)}})
}

// clear takes a clearing event for a CI and kind with an open ticket.
func (m *MonitoringSink) clear(ctx context.Context, tx *sqlx.Tx, e cmdb.HealthEvent, l *monitoringLink, authority int64, now time.Time) error {
	subjects := slices.DeleteFunc(slices.Clone(l.Subjects), func(s string) bool { return s == e.Subject })
	if len(subjects) > 0 {
		// Another subject (a second toner) is still empty.
		err := m.db.txExec(ctx, tx, `UPDATE monitoring_tickets SET events = events + 1, last_seen = greatest(last_seen, $2),
			open_subjects = $3 WHERE id = $1`, l.ID, e.At, pq.Array(subjects))
		if err != nil || len(subjects) == len(l.Subjects) {
			return err
		}
		return m.db.monitoringComment(ctx, tx, l.TicketID, fmt.Sprintf("Behoben am %s: %s; weiterhin betroffen: %s (automatisch erkannt).",
			germanTime(e.At), e.Subject, strings.Join(subjects, ", ")), now)
	}
	if l.Cleared {
		return nil // already taken
	}
	rule, err := m.db.monitoringRuleTx(ctx, tx, authority, e.Kind)
	if err != nil {
		return err
	}
	body := "Störung behoben am " + germanTime(e.At) + " (automatisch erkannt)."
	if !rule.AutoResolve {
		return m.db.monitoringUpdate(ctx, tx, l.TicketID, body+" Das Ticket bleibt offen, bis es bearbeitet ist.", now, "", "",
			&linkChange{l.ID, `events = events + 1, last_seen = greatest(last_seen, $9), open_subjects = '{}', cleared_at = $9`, []any{e.At}})
	}
	return m.db.monitoringUpdate(ctx, tx, l.TicketID, body, now, l.TicketStatus, cmdb.StatusResolved, &linkChange{l.ID,
		`events = events + 1, last_seen = greatest(last_seen, $9), open_subjects = '{}', cleared_at = $9, auto_resolved_at = $10`,
		[]any{e.At, now}})
}

// monitoringComment adds a public comment by monitoring to a ticket.
func (db *DB) monitoringComment(ctx context.Context, tx *sqlx.Tx, ticket int64, body string, now time.Time) error {
	return db.monitoringUpdate(ctx, tx, ticket, body, now, "", "", nil)
}

// linkChange is an update of a monitoring link made in the statement of
// its ticket's change: Set is the SET clause, its parameters numbered
// from $9 and given in Args.
type linkChange struct {
	ID   int64
	Set  string
	Args []any
}

// monitoringUpdate adds a public comment by monitoring to a ticket and,
// when status is set, moves the ticket from old to status (resolved or,
// reopening, in progress), with the history of both, and applies link
// (nil: none) — in one statement, since a device that flaps makes many of
// these.
func (db *DB) monitoringUpdate(ctx context.Context, tx *sqlx.Tx, ticket int64, body string, now time.Time, old, status string, link *linkChange) error {
	q := `WITH c AS (
			INSERT INTO ticket_comments (ticket_id, author, body, internal, channel, created_at)
			VALUES ($1, $2, $3, false, 'monitoring', $4) RETURNING id
		), u AS (
			UPDATE tickets SET updated_at = $4, status = coalesce(nullif($6, ''), status),
				resolved_at = CASE $6 WHEN 'resolved' THEN $4 WHEN 'in_progress' THEN NULL ELSE resolved_at END
			WHERE id = $1
		)`
	args := []any{ticket, monitoringSubject, body, now, old, status, cmdb.AdminScope(monitoringSubject).Source()}
	if link != nil {
		// The Set clauses are constants of the sink, never input.
		q += `, l AS (UPDATE monitoring_tickets SET ` + link.Set + ` WHERE id = $8)`
		args = append(append(args, link.ID), link.Args...)
	}
	return db.txExec(ctx, tx, q+`
		INSERT INTO ticket_history (ticket_id, at, subject, channel, field, old_value, new_value)
		SELECT $1, $4, $7, 'monitoring', 'comment', '', c.id::text FROM c
		UNION ALL SELECT $1, $4, $7, 'monitoring', 'status', $5, $6 WHERE $6 <> ''`, args...)
}

// monitoringDescription is the German description of a new ticket.
func monitoringDescription(e cmdb.HealthEvent) string {
	var b strings.Builder
	b.WriteString("Automatisch von der Geräteüberwachung eröffnet.\n")
	fmt.Fprintf(&b, "Erkannt am %s.\n", germanTime(e.At))
	if e.Subject != "" {
		fmt.Fprintf(&b, "Betroffen: %s\n", e.Subject)
	}
	if e.Detail != "" {
		fmt.Fprintf(&b, "Meldung des Geräts: %s\n", e.Detail)
	}
	return b.String()
}

// germanTime formats t as "dd.mm.yyyy um hh:mm" in German time.
func germanTime(t time.Time) string { return t.In(ticketZone).Format("02.01.2006 um 15:04") }

// monitoringCategory finds the category id of name for class: the
// authority's own before the default, then "Sonstiges" of the class, then
// the general "Sonstiges".
func monitoringCategory(ctx context.Context, tx *sqlx.Tx, authority int64, class, name string) (int64, error) {
	var id int64
	err := tx.GetContext(ctx, &id, `SELECT id FROM ticket_categories WHERE active AND (authority_id IS NULL OR authority_id = $1)
			AND ((class = $2 AND name = $3) OR (class = $2 AND name = 'Sonstiges') OR (class = 'general' AND name = 'Sonstiges'))
		ORDER BY (name = $3) DESC, (class = $2) DESC, authority_id IS NULL, position LIMIT 1`, authority, class, name)
	if err == sql.ErrNoRows {
		return 0, errors.New("no ticket category Sonstiges")
	}
	return id, err
}
