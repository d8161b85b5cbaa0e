package postgres

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // ticket years are counted in German time on any host

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	"github.com/schulit/cmdb/server/cmdb"
)

var _ cmdb.TicketStore = (*DB)(nil)

// ticketZone is where a ticket's year is counted: a ticket opened at
// 00:30 on 1 January in Germany belongs to the new year.
var ticketZone = func() *time.Location {
	if l, err := time.LoadLocation("Europe/Berlin"); err == nil {
		return l
	}
	return time.UTC
}()

const ticketColumns = `t.id, t.number, t.authority_id, coalesce(t.school_id, 0), coalesce(t.room_id, 0), t.type, t.title,
	t.description, t.category_id, c.name, t.impact, t.urgency, t.priority, t.status, t.level, coalesce(t.provider_id, 0),
	coalesce(t.assignee_user_id, 0), t.channel, coalesce(t.reporter_user_id, 0), t.on_behalf_of, t.created_by,
	(SELECT count(*) FROM ticket_watchers w WHERE w.ticket_id = t.id),
	t.created_at, t.updated_at, t.resolved_at, t.closed_at,
	coalesce((SELECT array_agg(x.ci_id ORDER BY x.ci_id) FROM ticket_cis x WHERE x.ticket_id = t.id), '{}'),
	coalesce(t.merged_into_id, 0),
	coalesce(t.service_id, 0), coalesce((SELECT sv.name FROM services sv WHERE sv.id = t.service_id), ''), t.form_answers,
	coalesce(t.problem_id, 0), ` + slaColumn

const ticketFrom = ` FROM tickets t JOIN ticket_categories c ON c.id = t.category_id`

// ticketOrder puts open tickets first, then the most urgent, then the oldest.
const ticketOrder = ` ORDER BY (t.status IN ('resolved', 'closed')), t.priority, t.created_at, t.id`

// ticketOpenOrder is ticketOrder for a list of open tickets only.
const ticketOpenOrder = ` ORDER BY t.priority, t.created_at, t.id`

func scanTicket(sc interface{ Scan(...any) error }) (*cmdb.Ticket, error) {
	var t cmdb.Ticket
	var cis pq.Int64Array
	var resolved, closed sql.NullTime
	var answers, sla []byte
	err := sc.Scan(&t.ID, &t.Number, &t.AuthorityID, &t.SchoolID, &t.RoomID, &t.Type, &t.Title, &t.Description,
		&t.CategoryID, &t.Category, &t.Impact, &t.Urgency, &t.Priority, &t.Status, &t.Level, &t.ProviderID,
		&t.AssigneeUserID, &t.Channel, &t.ReporterUserID, &t.OnBehalfOf, &t.CreatedBy, &t.Watchers,
		&t.CreatedAt, &t.UpdatedAt, &resolved, &closed, &cis, &t.MergedInto, &t.ServiceID, &t.Service, &answers, &t.ProblemID, &sla)
	if err != nil {
		return nil, err
	}
	if err := scanFormAnswers(&t, answers); err != nil {
		return nil, err
	}
	if err := scanTicketSLA(&t, sla); err != nil {
		return nil, err
	}
	t.CIIDs = []int64(cis)
	if resolved.Valid {
		t.ResolvedAt = &resolved.Time
	}
	if closed.Valid {
		t.ClosedAt = &closed.Time
	}
	return &t, nil
}

// ticketScope adds the condition for the tickets the scope sees: the
// authority's (authority IT), the schools' (school IT, teachers), the
// ones the caller reported, and the ones assigned to the caller's
// providers (only while assigned).
func ticketScope(w *where, s cmdb.Scope) {
	if s.Admin {
		return
	}
	// Only the parts the scope has, and "= ?" for a single id, so that
	// the planner can walk the queue indexes in order for the common
	// caller (authority IT of one authority).
	var conds []string
	var args []any
	for _, c := range []struct {
		col string
		ids []int64
	}{{"t.authority_id", s.Authorities}, {"t.school_id", s.VisibleSchools()}, {"t.provider_id", s.Providers}} {
		switch len(c.ids) {
		case 0:
		case 1:
			conds, args = append(conds, c.col+" = ?"), append(args, c.ids[0])
		default:
			conds, args = append(conds, c.col+" = ANY(?)"), append(args, pq.Array(c.ids))
		}
	}
	if s.UserID != 0 {
		conds = append(conds, "t.reporter_user_id = ?")
		args = append(args, s.UserID)
	}
	if len(conds) == 0 {
		w.add("FALSE")
		return
	}
	w.add("("+strings.Join(conds, " OR ")+")", args...)
}

// onlyAuthority reports whether everything the scope sees of tickets lies
// in its one authority (authority IT who reported nothing elsewhere, the
// usual case): then the scope is that authority alone, which the queue
// indexes serve in order. One short lookup on the small indexes.
func (db *DB) onlyAuthority(ctx context.Context, s cmdb.Scope) (int64, bool, error) {
	if s.Admin || len(s.Authorities) != 1 {
		return 0, false, nil
	}
	a := s.Authorities[0]
	rest := cmdb.Scope{UserID: s.UserID, Schools: s.Schools, ReadSchools: s.ReadSchools, Providers: s.Providers}
	if rest.UserID == 0 && len(rest.VisibleSchools()) == 0 && len(rest.Providers) == 0 {
		return a, true, nil
	}
	var w where
	ticketScope(&w, rest)
	var outside bool
	err := db.db.GetContext(ctx, &outside, rebind(`SELECT EXISTS (SELECT 1 FROM tickets t WHERE `+w.String()+` AND t.authority_id <> ?)`),
		append(w.args, a)...)
	return a, err == nil && !outside, err
}

// openStatuses is the SQL list of the statuses that still need work; it
// matches the predicate of the partial queue indexes (schema 0012).
const openStatuses = `('new', 'assigned', 'in_progress', 'waiting')`

// staffOf reports whether the scope works on the ticket: it may change it
// and read its internal comments (authority IT, school IT of its school,
// the assigned provider, admins).
func staffOf(s cmdb.Scope, t *cmdb.Ticket) bool {
	return s.CanWrite(t.AuthorityID, t.SchoolID) || (t.ProviderID != 0 && slices.Contains(s.Providers, t.ProviderID))
}

// findTicket loads one ticket the scope sees; lock takes a row lock for
// an update in the same transaction.
func findTicket(ctx context.Context, q sqlx.QueryerContext, s cmdb.Scope, id int64, lock bool) (*cmdb.Ticket, error) {
	var w where
	ticketScope(&w, s)
	w.add("t.id = ?", id)
	query := `SELECT ` + ticketColumns + ticketFrom + ` WHERE ` + w.String()
	if lock {
		query += ` FOR UPDATE OF t`
	}
	t, err := scanTicket(q.QueryRowxContext(ctx, rebind(query), w.args...))
	if err == sql.ErrNoRows {
		return nil, notFound("ticket", id)
	}
	return t, mapErr("postgres.FindTicket", err)
}

// FindTicketByID returns one ticket; ENOTFOUND outside the scope.
func (db *DB) FindTicketByID(ctx context.Context, s cmdb.Scope, id int64) (*cmdb.Ticket, error) {
	t, err := findTicket(ctx, db.db, s, id, false)
	db.settleSLA(t)
	return t, err
}

// FindTicketByNumber returns one ticket by its number; ENOTFOUND outside
// the scope.
func (db *DB) FindTicketByNumber(ctx context.Context, s cmdb.Scope, number string) (*cmdb.Ticket, error) {
	var w where
	ticketScope(&w, s)
	w.add("t.number = ?", strings.ToUpper(number))
	t, err := scanTicket(db.db.QueryRowxContext(ctx, rebind(`SELECT `+ticketColumns+ticketFrom+` WHERE `+w.String()), w.args...))
	if err == sql.ErrNoRows {
		return nil, &cmdb.Error{Code: cmdb.ENOTFOUND, Message: noSuch("ticket", number)}
	}
	db.settleSLA(t)
	return t, mapErr("postgres.FindTicketByNumber", err)
}

// FindTickets returns a page of the tickets the scope sees.
func (db *DB) FindTickets(ctx context.Context, s cmdb.Scope, f cmdb.TicketFilter) ([]*cmdb.Ticket, int, error) {
	if err := f.Validate(); err != nil {
		return nil, 0, err
	}
	var w where
	switch {
	case f.AuthorityID != 0 && slices.Contains(s.Authorities, f.AuthorityID),
		f.SchoolID != 0 && slices.Contains(s.VisibleSchools(), f.SchoolID):
		// The filter lies inside what the scope sees whole: the scope adds
		// nothing, and leaving it out lets the queue walk its index.
	default:
		if a, ok, err := db.onlyAuthority(ctx, s); err != nil {
			return nil, 0, mapErr("postgres.FindTickets", err)
		} else if ok {
			w.add("t.authority_id = ?", a)
		} else {
			ticketScope(&w, s)
		}
	}
	if f.AuthorityID != 0 {
		w.add("t.authority_id = ?", f.AuthorityID)
	}
	if f.SchoolID != 0 {
		w.add("t.school_id = ?", f.SchoolID)
	}
	if f.CIID != 0 {
		w.add("EXISTS (SELECT 1 FROM ticket_cis x WHERE x.ticket_id = t.id AND x.ci_id = ?)", f.CIID)
	}
	order := ticketOrder
	if len(f.Statuses) > 0 {
		sts := f.Statuses
		if slices.Contains(sts, "open") {
			sts = append(slices.DeleteFunc(slices.Clone(sts), func(s string) bool { return s == "open" }),
				cmdb.StatusNew, cmdb.StatusAssigned, cmdb.StatusInProgress, cmdb.StatusWaiting)
		}
		slices.Sort(sts)
		sts = slices.Compact(sts)
		if !slices.Contains(sts, cmdb.StatusResolved) && !slices.Contains(sts, cmdb.StatusClosed) {
			// Open tickets only: the usual queue. Named literally so the
			// partial indexes apply, and without the open-first key
			// (constant here) so they give the order too.
			w.add("t.status IN " + openStatuses)
			if len(sts) < 4 {
				w.add("t.status = ANY(?)", pq.Array(sts))
			}
			order = ticketOpenOrder
		} else {
			w.add("t.status = ANY(?)", pq.Array(sts))
		}
	}
	if f.Type != "" {
		w.add("t.type = ?", f.Type)
	}
	if f.Level != 0 {
		w.add("t.level = ?", f.Level)
	}
	if f.Priority != 0 {
		w.add("t.priority = ?", f.Priority)
	}
	if f.Group == "authority" {
		w.add("t.provider_id IS NULL")
	} else if f.Group != "" {
		n, _ := strconv.ParseInt(f.Group, 10, 64) // Validate checked it
		w.add("t.provider_id = ?", n)
	}
	if f.ServiceID != 0 {
		w.add("t.service_id = ?", f.ServiceID)
	}
	slaFilter(&w, f.SLA, db.now())
	order = queueFilter(&w, f, order)
	if f.Query != "" {
		p := likePattern(f.Query)
		// One expression, the one the trigram index holds (0022).
		w.add("(t.number || E'\\n' || t.title || E'\\n' || t.description) ILIKE ?", p)
	}
	if f.Limit == 0 {
		f.Limit = 50
	}
	// The count and the page are independent: asked at once on two
	// connections, the queue answers in the time of the slower one.
	var total int
	counted := make(chan error, 1)
	go func() {
		counted <- db.db.GetContext(ctx, &total, rebind(`SELECT count(*) FROM tickets t WHERE `+w.String()), w.args...)
	}()
	args := append(slices.Clone(w.args), f.Limit, f.Offset)
	// The page is chosen on ids first, so that the columns' subqueries
	// run for its rows only and not for every row the offset skips.
	out, err := db.queryTickets(ctx, rebind(`SELECT `+ticketColumns+` FROM (SELECT t.id FROM tickets t WHERE `+w.String()+order+
		` LIMIT ? OFFSET ?) page JOIN tickets t ON t.id = page.id JOIN ticket_categories c ON c.id = t.category_id`+order), args...)
	if cerr := <-counted; err == nil && cerr != nil {
		err = mapErr("postgres.FindTickets", cerr)
	}
	if err != nil {
		return nil, 0, err
	}
	return out, total, nil
}

// FindCITickets lists the tickets of a visible CI, open ones first.
func (db *DB) FindCITickets(ctx context.Context, s cmdb.Scope, ciID int64) ([]*cmdb.Ticket, error) {
	if _, err := findCI(ctx, db.db, s, ciID); err != nil {
		return nil, err
	}
	out, _, err := db.FindTickets(ctx, s, cmdb.TicketFilter{CIID: ciID, Limit: 1000})
	return out, err
}

func (db *DB) queryTickets(ctx context.Context, query string, args ...any) ([]*cmdb.Ticket, error) {
	rows, err := db.db.QueryxContext(ctx, query, args...)
	if err != nil {
		return nil, mapErr("postgres.FindTickets", err)
	}
	defer rows.Close()
	out := []*cmdb.Ticket{}
	for rows.Next() {
		t, err := scanTicket(rows)
		if err != nil {
			return nil, mapErr("postgres.FindTickets", err)
		}
		out = append(out, t)
	}
	db.settleSLA(out...)
	return out, mapErr("postgres.FindTickets", rows.Err())
}

// ticketPlace is where a new ticket lies, resolved from what it names.
type ticketPlace struct {
	authority, school int64
	classes           []string // of the linked CIs
}

// ticketCI looks up a CI a ticket names: visible to the scope and not
// merged away, else the unknown reference of field. It returns the CI's
// authority, school (0: none) and class.
func ticketCI(ctx context.Context, tx *sqlx.Tx, s cmdb.Scope, field string, id int64) (auth, school int64, class string, err error) {
	var w where
	w.scope(s, "c.authority_id", "c.school_id")
	w.add("c.id = ? AND c.merged_into IS NULL", id)
	err = tx.QueryRowxContext(ctx, rebind(`SELECT c.authority_id, coalesce(c.school_id, 0), c.class FROM cis c WHERE `+w.String()), w.args...).
		Scan(&auth, &school, &class)
	if err == sql.ErrNoRows {
		return 0, 0, "", unknownRef(field, "CI", id)
	}
	return auth, school, class, err
}

// placeTicket resolves the authority and school of a new ticket from its
// CIs, room, school and authority, each of which the scope must see.
func placeTicket(ctx context.Context, tx *sqlx.Tx, s cmdb.Scope, t *cmdb.Ticket) (*ticketPlace, error) {
	p := &ticketPlace{}
	set := func(field string, auth, school int64) error {
		if p.authority != 0 && auth != p.authority {
			return cmdb.Invalid(field, "lies in another authority than the rest of the ticket")
		}
		p.authority = auth
		if school != 0 {
			if p.school != 0 && school != p.school {
				return cmdb.Invalid(field, "lies in another school than the rest of the ticket; open one ticket per school")
			}
			p.school = school
		}
		return nil
	}
	for i, id := range t.CIIDs {
		field := fmt.Sprintf("ci_ids[%d]", i)
		auth, school, class, err := ticketCI(ctx, tx, s, field, id)
		if err != nil {
			return nil, err
		}
		if err := set(field, auth, school); err != nil {
			return nil, err
		}
		p.classes = append(p.classes, class)
	}
	if t.RoomID != 0 {
		var w where
		w.scope(s, "r.authority_id", "r.school_id")
		w.add("r.id = ?", t.RoomID)
		var auth, school int64
		err := tx.QueryRowxContext(ctx, rebind(`SELECT r.authority_id, r.school_id FROM rooms r WHERE `+w.String()), w.args...).Scan(&auth, &school)
		if err == sql.ErrNoRows {
			return nil, unknownRef("room_id", "room", t.RoomID)
		} else if err != nil {
			return nil, err
		}
		if err := set("room_id", auth, school); err != nil {
			return nil, err
		}
	}
	if t.SchoolID != 0 {
		var w where
		w.scope(s, "sc.authority_id", "sc.id")
		w.add("sc.id = ?", t.SchoolID)
		var auth int64
		err := tx.QueryRowxContext(ctx, rebind(`SELECT sc.authority_id FROM schools sc WHERE `+w.String()), w.args...).Scan(&auth)
		if err == sql.ErrNoRows {
			return nil, unknownRef("school_id", "school", t.SchoolID)
		} else if err != nil {
			return nil, err
		}
		if err := set("school_id", auth, t.SchoolID); err != nil {
			return nil, err
		}
	}
	if t.AuthorityID != 0 {
		if p.authority == 0 && !s.CanSeeAuthority(t.AuthorityID) {
			return nil, unknownRef("authority_id", "authority", t.AuthorityID)
		}
		if err := set("authority_id", t.AuthorityID, 0); err != nil {
			return nil, err
		}
	}
	switch {
	case p.authority == 0:
		return nil, cmdb.Invalid("ci_ids", "is required: name the CIs, or a room or school, the ticket is about")
	case !s.CanSee(p.authority, p.school):
		// Teachers open tickets only within their school.
		return nil, cmdb.Invalid("school_id", "is required: name a CI, room or school of your school")
	}
	return p, nil
}

// checkCategory returns the name of a category that fits the classes.
func checkCategory(ctx context.Context, tx *sqlx.Tx, authority, id int64, classes []string) (string, error) {
	var class, name string
	err := tx.QueryRowxContext(ctx, `SELECT class, name FROM ticket_categories WHERE id = $1 AND active
		AND (authority_id IS NULL OR authority_id = $2)
		AND NOT EXISTS (SELECT 1 FROM ticket_category_hidden h WHERE h.authority_id = $2 AND h.category_id = $1)`, id, authority).Scan(&class, &name)
	if err == sql.ErrNoRows {
		return "", unknownRef("category_id", "category", id)
	} else if err != nil {
		return "", err
	}
	if class != "general" && !slices.Contains(classes, class) {
		return "", cmdb.Invalid("category_id", "%q is a category for %s devices, and the ticket names none; pick one of its devices' classes or a general one", name, class)
	}
	return name, nil
}

// checkAssignee checks the group a ticket is assigned to (provider 0:
// the authority's IT) and the person, who must belong to that group: a
// member of the provider, or authority IT of the authority or school IT
// of the ticket's school. checkProvider false skips the group check (it
// is unchanged).
func checkAssignee(ctx context.Context, tx *sqlx.Tx, authority, school, provider, user int64, checkProvider bool) error {
	if provider != 0 && checkProvider {
		var ok bool
		if err := tx.GetContext(ctx, &ok, `SELECT EXISTS (SELECT 1 FROM provider_contracts WHERE provider_id = $1 AND authority_id = $2)`,
			provider, authority); err != nil {
			return err
		} else if !ok {
			return unknownRef("provider_id", "provider with a contract for this authority", provider)
		}
	}
	if user != 0 {
		var exists, member bool
		if err := tx.QueryRowxContext(ctx, `SELECT EXISTS (SELECT 1 FROM users WHERE id = $1),
			EXISTS (SELECT 1 FROM memberships m WHERE m.user_id = $1 AND CASE WHEN $2 <> 0 THEN m.role = 'provider' AND m.provider_id = $2
				ELSE (m.role = 'authority_it' AND m.authority_id = $3) OR (m.role = 'school_it' AND m.school_id = $4) END)`,
			user, provider, authority, school).Scan(&exists, &member); err != nil {
			return err
		}
		if !exists {
			return unknownRef("assignee_user_id", "user", user)
		} else if !member {
			return cmdb.Invalid("assignee_user_id", "user %d is not in the assignee group (the provider, or the authority's or school's IT)", user)
		}
	}
	return nil
}

// priorityMatrix is the authority's matrix, the default when it has none.
func priorityMatrix(ctx context.Context, q sqlx.QueryerContext, authority int64) (cmdb.PriorityMatrix, error) {
	var cells pq.Int64Array
	err := sqlx.GetContext(ctx, q, &cells, `SELECT cells FROM ticket_priority_matrices WHERE authority_id = $1`, authority)
	if err == sql.ErrNoRows {
		return cmdb.DefaultPriorityMatrix, nil
	} else if err != nil {
		return cmdb.PriorityMatrix{}, err
	}
	var m cmdb.PriorityMatrix
	for i, c := range cells {
		m[i/3][i%3] = int(c)
	}
	return m, nil
}

// FindPriorityMatrix returns an authority's matrix; see cmdb.TicketStore.
func (db *DB) FindPriorityMatrix(ctx context.Context, s cmdb.Scope, authority int64) (cmdb.PriorityMatrix, error) {
	if !s.CanSeeAuthority(authority) {
		return cmdb.PriorityMatrix{}, notFound("authority", authority)
	}
	var ok bool
	if err := db.db.GetContext(ctx, &ok, `SELECT EXISTS (SELECT 1 FROM authorities WHERE id = $1)`, authority); err != nil || !ok {
		return cmdb.PriorityMatrix{}, cmpErr(err, notFound("authority", authority))
	}
	m, err := priorityMatrix(ctx, db.db, authority)
	return m, mapErr("postgres.FindPriorityMatrix", err)
}

// SetPriorityMatrix stores an authority's matrix; see cmdb.TicketStore.
func (db *DB) SetPriorityMatrix(ctx context.Context, s cmdb.Scope, authority int64, m cmdb.PriorityMatrix) error {
	if !s.CanSeeAuthority(authority) {
		return notFound("authority", authority)
	}
	if err := m.Validate(); err != nil {
		return err
	}
	cells := make([]int64, 0, 9)
	for _, row := range m {
		for _, c := range row {
			cells = append(cells, int64(c))
		}
	}
	_, err := db.db.ExecContext(ctx, `INSERT INTO ticket_priority_matrices (authority_id, cells, updated_at, updated_by)
		VALUES ($1, $2, $3, $4) ON CONFLICT (authority_id) DO UPDATE SET cells = $2, updated_at = $3, updated_by = $4`,
		authority, pq.Array(cells), db.now(), s.Source())
	if cmdb.ErrorCode(mapErr("", err)) == cmdb.EINVALID { // the authority is gone
		return notFound("authority", authority)
	}
	return mapErr("postgres.SetPriorityMatrix", err)
}

// cmpErr returns err when there is one, else fallback.
func cmpErr(err, fallback error) error {
	if err != nil {
		return err
	}
	return fallback
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// CreateTicket opens a ticket; see cmdb.TicketStore.
func (db *DB) CreateTicket(ctx context.Context, s cmdb.Scope, t *cmdb.Ticket, key string) (bool, error) {
	var created bool
	err := db.inTx(ctx, func(tx *sqlx.Tx) (err error) {
		created, err = db.createTicket(ctx, tx, s, t, key)
		return err
	})
	db.settleSLA(t)
	return created, mapErr("postgres.CreateTicket", err)
}

// createTicket opens a ticket inside tx, so that other writes (the
// monitoring link) commit or fail with it; see CreateTicket.
func (db *DB) createTicket(ctx context.Context, tx *sqlx.Tx, s cmdb.Scope, t *cmdb.Ticket, key string) (bool, error) {
	if err := t.Validate(); err != nil {
		return false, err
	}
	if len(key) > 200 || strings.ContainsRune(key, 0) {
		return false, cmdb.Invalid("Idempotency-Key", "must be at most 200 characters")
	}
	created := false
	digest := requestDigest(t) // of the request as sent, before the store fills in anything
	err := func(tx *sqlx.Tx) error {
		p, err := placeTicket(ctx, tx, s, t)
		if err != nil {
			return err
		}
		if key != "" {
			// One creator's retries with one key wait for each other.
			if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(hashtextextended($1, 7))`,
				fmt.Sprintf("ticket|%d|%s|%s", p.authority, s.Subject, key)); err != nil {
				return err
			}
			var id int64
			var stored string
			err := tx.QueryRowxContext(ctx, `SELECT id, request_digest FROM tickets WHERE authority_id = $1 AND created_by = $2 AND idempotency_key = $3`,
				p.authority, s.Subject, key).Scan(&id, &stored)
			if err == nil && stored != digest {
				return &cmdb.Error{Code: cmdb.ECONFLICT, Field: "Idempotency-Key", Message: "This Idempotency-Key was used for another request; send a new key for a new ticket."}
			}
			if err == nil {
				got, err := findTicket(ctx, tx, cmdb.AdminScope(s.Subject), id, false)
				if err == nil {
					*t = *got
				}
				return err
			} else if err != sql.ErrNoRows {
				return err
			}
		}
		staff := s.CanWrite(p.authority, p.school)
		if !staff {
			switch {
			case t.ProviderID != 0:
				return &cmdb.Error{Code: cmdb.EFORBIDDEN, Field: "provider_id", Message: "Only IT staff assign tickets."}
			case t.AssigneeUserID != 0:
				return &cmdb.Error{Code: cmdb.EFORBIDDEN, Field: "assignee_user_id", Message: "Only IT staff assign tickets."}
			case t.Level > 1: // 0: the service's level, filled below
				return &cmdb.Error{Code: cmdb.EFORBIDDEN, Field: "level", Message: "Only IT staff set the support level."}
			case t.OnBehalfOf != "" || (t.ReporterUserID != 0 && t.ReporterUserID != s.UserID):
				return &cmdb.Error{Code: cmdb.EFORBIDDEN, Field: "on_behalf_of", Message: "Only IT staff open tickets for someone else."}
			}
		}
		if t.ReporterUserID == 0 && t.OnBehalfOf == "" {
			t.ReporterUserID = s.UserID
		} else if t.ReporterUserID != 0 && t.ReporterUserID != s.UserID {
			var ok bool
			if err := tx.GetContext(ctx, &ok, `SELECT EXISTS (SELECT 1 FROM users WHERE id = $1)`, t.ReporterUserID); err != nil {
				return err
			} else if !ok {
				return unknownRef("reporter_user_id", "user", t.ReporterUserID)
			}
		}
		if err := applyService(ctx, tx, s, p, t); err != nil {
			return err
		}
		if t.Category, err = checkCategory(ctx, tx, p.authority, t.CategoryID, p.classes); err != nil {
			return err
		}
		if err := checkAssignee(ctx, tx, p.authority, p.school, t.ProviderID, t.AssigneeUserID, true); err != nil {
			return err
		}
		m, err := priorityMatrix(ctx, tx, p.authority)
		if err != nil {
			return err
		}
		if t.Priority, err = m.Priority(t.Impact, t.Urgency); err != nil {
			return err
		}
		now := db.now()
		year := now.In(ticketZone).Year()
		var code string
		var n int
		if err := tx.GetContext(ctx, &code, `SELECT code FROM authorities WHERE id = $1`, p.authority); err != nil {
			return err
		}
		if err := tx.GetContext(ctx, &n, `INSERT INTO ticket_numbers (authority_id, year, last) VALUES ($1, $2, 1)
			ON CONFLICT (authority_id, year) DO UPDATE SET last = ticket_numbers.last + 1 RETURNING last`, p.authority, year); err != nil {
			return err
		}
		number := fmt.Sprintf("%s-%d-%05d", strings.ToUpper(code), year, n)
		var id int64
		err = tx.GetContext(ctx, &id, `INSERT INTO tickets (authority_id, school_id, room_id, number, type, title, description,
			category_id, impact, urgency, priority, status, level, provider_id, assignee_user_id, channel, reporter_user_id,
			on_behalf_of, created_by, idempotency_key, request_digest, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'new', $12, $13, $14, $15, $16, $17, $18, $19, $21, $20, $20) RETURNING id`,
			p.authority, nullID(p.school), nullID(t.RoomID), number, t.Type, strings.TrimSpace(t.Title), t.Description,
			t.CategoryID, t.Impact, t.Urgency, t.Priority, t.Level, nullID(t.ProviderID), nullID(t.AssigneeUserID), t.Channel,
			nullID(t.ReporterUserID), t.OnBehalfOf, s.Subject, sql.NullString{String: key, Valid: key != ""}, now, digest)
		if err != nil {
			return err
		}
		for _, ci := range t.CIIDs {
			if _, err := tx.ExecContext(ctx, `INSERT INTO ticket_cis (ticket_id, ci_id) VALUES ($1, $2)`, id, ci); err != nil {
				return err
			}
		}
		if err := saveServiceRequest(ctx, tx, id, t); err != nil {
			return err
		}
		if err := slaAtCreate(ctx, tx, p.authority, id); err != nil {
			return err
		}
		if err := addTicketHistory(ctx, tx, id, now, s, t.Channel, []change{{"created", "", number}}); err != nil {
			return err
		}
		if t.Type == cmdb.TicketIncident {
			if err := repeatFailuresAfterLink(ctx, tx, p.authority, t.CIIDs, now); err != nil {
				return err
			}
		}
		got, err := findTicket(ctx, tx, cmdb.AdminScope(s.Subject), id, false)
		if err != nil {
			return err
		}
		*t, created = *got, true
		return db.notifyTicket(ctx, tx, s, cmdb.TicketEvent{Kind: cmdb.NotifyTicketCreated, Ticket: got}, "0")
	}(tx)
	return created, err
}

// requestDigest is a digest of what a caller asked for in a create.
func requestDigest(t *cmdb.Ticket) string {
	cis := slices.Sorted(slices.Values(t.CIIDs))
	b, _ := json.Marshal([]any{t.Type, t.Title, t.Description, t.CategoryID, t.Impact, t.Urgency, t.Level, cis, t.RoomID,
		t.SchoolID, t.AuthorityID, t.ProviderID, t.AssigneeUserID, t.Channel, t.ReporterUserID, t.OnBehalfOf})
	if t.ServiceID != 0 { // appended only then, so that the digests of other tickets stay as they were
		b, _ = json.Marshal([]any{json.RawMessage(b), t.ServiceID, t.FormAnswers})
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// change is one changed field of a ticket, for its history.
type change struct{ field, old, new string }

func addTicketHistory(ctx context.Context, tx *sqlx.Tx, ticket int64, at time.Time, s cmdb.Scope, channel string, cs []change) error {
	for _, c := range cs {
		if _, err := tx.ExecContext(ctx, `INSERT INTO ticket_history (ticket_id, at, subject, channel, field, old_value, new_value)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`, ticket, at, s.Source(), channel, c.field, c.old, c.new); err != nil {
			return err
		}
	}
	return nil
}
