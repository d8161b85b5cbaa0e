package postgres

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	"github.com/schulit/cmdb/server/cmdb"
)

var _ cmdb.ProblemStore = (*DB)(nil)

const problemColumns = `p.id, p.authority_id, p.title, p.description, p.status, p.known_error, p.workaround, p.origin,
	coalesce(p.origin_ci_id, 0), p.origin_vendor, p.origin_model, p.created_by, p.created_at, p.updated_at`

func scanProblem(sc interface{ Scan(...any) error }) (*cmdb.Problem, error) {
	var p cmdb.Problem
	err := sc.Scan(&p.ID, &p.AuthorityID, &p.Title, &p.Description, &p.Status, &p.KnownError, &p.Workaround, &p.Origin,
		&p.OriginCIID, &p.OriginVendor, &p.OriginModel, &p.CreatedBy, &p.CreatedAt, &p.UpdatedAt)
	if err != nil {
		return nil, err
	}
	p.Number, p.TicketIDs = cmdb.ProblemNumber(p.ID), []int64{}
	return &p, nil
}

// problemScope adds the condition for the problems the scope sees: the
// authority's (authority IT) and those grouping a ticket of a school the
// caller is IT of. Teachers and providers see none.
func problemScope(w *where, s cmdb.Scope) {
	if s.Admin {
		return
	}
	w.add("(p.authority_id = ANY(?) OR EXISTS (SELECT 1 FROM tickets pt WHERE pt.problem_id = p.id AND pt.school_id = ANY(?)))",
		pq.Array(s.Authorities), pq.Array(s.Schools))
}

// findProblem loads one problem the scope sees with the tickets of it
// the scope sees; lock takes a row lock for a change in the same
// transaction.
func findProblem(ctx context.Context, q sqlx.QueryerContext, s cmdb.Scope, id int64, lock bool) (*cmdb.Problem, error) {
	var w where
	problemScope(&w, s)
	w.add("p.id = ?", id)
	query := `SELECT ` + problemColumns + ` FROM problems p WHERE ` + w.String()
	if lock {
		query += ` FOR UPDATE OF p`
	}
	p, err := scanProblem(q.QueryRowxContext(ctx, rebind(query), w.args...))
	if err == sql.ErrNoRows {
		return nil, notFound("problem", id)
	} else if err != nil {
		return nil, err
	}
	return p, problemTickets(ctx, q, s, []*cmdb.Problem{p})
}

// problemTickets fills in the tickets of the problems that the scope
// sees (school IT do not learn of other schools' tickets).
func problemTickets(ctx context.Context, q sqlx.QueryerContext, s cmdb.Scope, ps []*cmdb.Problem) error {
	if len(ps) == 0 {
		return nil
	}
	byID := map[int64]*cmdb.Problem{}
	ids := make([]int64, len(ps))
	for i, p := range ps {
		byID[p.ID], ids[i] = p, p.ID
	}
	var w where
	ticketScope(&w, s)
	w.add("t.problem_id = ANY(?)", pq.Array(ids))
	rows, err := q.QueryxContext(ctx, rebind(`SELECT t.problem_id, t.id FROM tickets t WHERE `+w.String()+` ORDER BY t.id`), w.args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var pid, tid int64
		if err := rows.Scan(&pid, &tid); err != nil {
			return err
		}
		byID[pid].TicketIDs = append(byID[pid].TicketIDs, tid)
	}
	return rows.Err()
}

// FindProblemByID returns one problem; see cmdb.ProblemStore.
func (db *DB) FindProblemByID(ctx context.Context, s cmdb.Scope, id int64) (*cmdb.Problem, error) {
	p, err := findProblem(ctx, db.db, s, id, false)
	return p, mapErr("postgres.FindProblemByID", err)
}

// FindProblems returns a page of problems; see cmdb.ProblemStore.
func (db *DB) FindProblems(ctx context.Context, s cmdb.Scope, f cmdb.ProblemFilter) ([]*cmdb.Problem, int, error) {
	if err := f.Validate(); err != nil {
		return nil, 0, err
	}
	var w where
	problemScope(&w, s)
	if f.AuthorityID != 0 {
		w.add("p.authority_id = ?", f.AuthorityID)
	}
	if f.Status != "" {
		w.add("p.status = ?", f.Status)
	}
	if f.Origin != "" {
		w.add("p.origin = ?", f.Origin)
	}
	if f.Limit == 0 {
		f.Limit = 50
	}
	var total int
	if err := db.db.GetContext(ctx, &total, rebind(`SELECT count(*) FROM problems p WHERE `+w.String()), w.args...); err != nil {
		return nil, 0, mapErr("postgres.FindProblems", err)
	}
	rows, err := db.db.QueryxContext(ctx, rebind(`SELECT `+problemColumns+` FROM problems p WHERE `+w.String()+
		` ORDER BY (p.status IN ('resolved', 'closed')), p.id DESC LIMIT ? OFFSET ?`), append(w.args, f.Limit, f.Offset)...)
	if err != nil {
		return nil, 0, mapErr("postgres.FindProblems", err)
	}
	defer rows.Close()
	out := []*cmdb.Problem{}
	for rows.Next() {
		p, err := scanProblem(rows)
		if err != nil {
			return nil, 0, mapErr("postgres.FindProblems", err)
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, mapErr("postgres.FindProblems", err)
	}
	return out, total, mapErr("postgres.FindProblems", problemTickets(ctx, db.db, s, out))
}

// seesAuthorityInPart reports whether the scope sees something of the
// authority without seeing all of it: a school of it, or a contract of
// its provider. Such a caller is told "forbidden" rather than "no such".
func seesAuthorityInPart(ctx context.Context, q sqlx.QueryerContext, s cmdb.Scope, auth int64) (bool, error) {
	var ok bool
	err := sqlx.GetContext(ctx, q, &ok, `SELECT EXISTS (SELECT 1 FROM schools WHERE authority_id = $1 AND id = ANY($2))
		OR EXISTS (SELECT 1 FROM provider_contracts WHERE authority_id = $1 AND provider_id = ANY($3))`,
		auth, pq.Array(s.VisibleSchools()), pq.Array(s.Providers))
	return ok, err
}

// staffAuthority checks that the scope may do the authority IT's work in
// auth (named in field of the body): EINVALID when it sees nothing of the
// authority, EFORBIDDEN (with what) when it sees it only in part.
func staffAuthority(ctx context.Context, q sqlx.QueryerContext, s cmdb.Scope, field string, auth int64, what string) error {
	if s.CanSeeAuthority(auth) {
		return nil
	}
	if part, err := seesAuthorityInPart(ctx, q, s, auth); err != nil {
		return err
	} else if part {
		return cmdb.Errorf(cmdb.EFORBIDDEN, "Only the authority's IT %s.", what)
	}
	return unknownRef(field, "authority", auth)
}

// CreateProblem opens a problem and groups its incidents; see
// cmdb.ProblemStore.
func (db *DB) CreateProblem(ctx context.Context, s cmdb.Scope, in cmdb.NewProblem) (*cmdb.Problem, error) {
	if err := in.Validate(); err != nil {
		return nil, err
	}
	// Only authority IT open problems; the others learn nothing of the
	// tickets they name.
	if !s.Admin && len(s.Authorities) == 0 {
		return nil, cmdb.Errorf(cmdb.EFORBIDDEN, "Only the authority's IT opens problems.")
	}
	var out *cmdb.Problem
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		auth := in.AuthorityID
		set := func(field string, a int64) error {
			if auth != 0 && a != auth {
				return cmdb.Invalid(field, "lies in another authority than the rest of the problem")
			}
			auth = a
			return nil
		}
		tickets := make([]*cmdb.Ticket, len(in.TicketIDs))
		for i, id := range in.TicketIDs {
			field := fmt.Sprintf("ticket_ids[%d]", i)
			t, err := findTicket(ctx, tx, s, id, true)
			if err != nil {
				return asRef(err, field, "ticket", id)
			}
			if err := set(field, t.AuthorityID); err != nil {
				return err
			}
			if t.ProblemID != 0 {
				return &cmdb.Error{Code: cmdb.ECONFLICT, Field: field, Message: fmt.Sprintf("Ticket %s is already in problem %s; a ticket belongs to one problem only.",
					t.Number, cmdb.ProblemNumber(t.ProblemID))}
			}
			tickets[i] = t
		}
		if in.Origin == cmdb.OriginRepeatFailure {
			a, _, _, err := ticketCI(ctx, tx, s, "ci_id", in.CIID)
			if err != nil {
				return err
			}
			if err := set("ci_id", a); err != nil {
				return err
			}
		}
		if auth == 0 && len(s.Authorities) == 1 {
			auth = s.Authorities[0]
		}
		if auth == 0 {
			return cmdb.Invalid("authority_id", "is required: the authority the problem belongs to")
		}
		if err := staffAuthority(ctx, tx, s, "authority_id", auth, "opens problems"); err != nil {
			return err
		}
		vendor, model := strings.TrimSpace(in.Vendor), strings.TrimSpace(in.Model)
		var modelCIs []int64
		if in.Origin == cmdb.OriginPattern {
			vendor = cmdb.NormalizeVendor(vendor)
			var err error
			if modelCIs, err = patternCIs(ctx, tx, auth, vendor, model); err != nil {
				return err
			} else if len(modelCIs) == 0 {
				return cmdb.Invalid("model", "no device of vendor %q and model %q in this authority", vendor, model)
			}
		}
		now := db.now()
		var id int64
		if err := tx.GetContext(ctx, &id, `INSERT INTO problems (authority_id, title, description, status, known_error, workaround,
			origin, origin_ci_id, origin_vendor, origin_model, created_by, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12) RETURNING id`,
			auth, strings.TrimSpace(in.Title), in.Description, cmdb.ProblemOpen, in.KnownError, in.Workaround, in.Origin,
			nullID(in.CIID), vendor, model, s.Source(), now); err != nil {
			return err
		}
		ids := append([]int64{}, in.TicketIDs...)
		since := now.Add(-time.Duration(in.WindowDays) * 24 * time.Hour)
		var found []int64
		switch in.Origin {
		// Incidents only, each fault once: a duplicate merged into another
		// ticket is grouped through that ticket.
		case cmdb.OriginRepeatFailure:
			if err := tx.SelectContext(ctx, &found, `SELECT t.id FROM tickets t JOIN ticket_cis x ON x.ticket_id = t.id
				WHERE x.ci_id = $1 AND t.authority_id = $2 AND t.type = 'incident' AND t.problem_id IS NULL
				AND t.merged_into_id IS NULL AND t.created_at >= $3
				ORDER BY t.id FOR UPDATE OF t`, in.CIID, auth, since); err != nil {
				return err
			}
		case cmdb.OriginPattern:
			if err := tx.SelectContext(ctx, &found, `SELECT t.id FROM tickets t
				WHERE t.authority_id = $1 AND t.type = 'incident' AND t.problem_id IS NULL AND t.merged_into_id IS NULL
				AND t.created_at >= $2 AND EXISTS (SELECT 1 FROM ticket_cis x WHERE x.ticket_id = t.id AND x.ci_id = ANY($3))
				ORDER BY t.id FOR UPDATE OF t`, auth, since, pq.Array(modelCIs)); err != nil {
				return err
			}
		}
		for _, f := range found {
			if !slices.Contains(ids, f) {
				ids = append(ids, f)
			}
		}
		if err := addProblemHistory(ctx, tx, id, now, s, problemChange{field: "created", new: in.Origin}); err != nil {
			return err
		}
		for _, tid := range ids {
			if err := setTicketProblem(ctx, tx, s, now, tid, 0, id); err != nil {
				return err
			}
		}
		var err error
		out, err = findProblem(ctx, tx, s, id, false)
		return err
	})
	return out, mapErr("postgres.CreateProblem", err)
}

// setTicketProblem moves a ticket from problem old to problem new (0:
// none) and records it in the ticket's history. The ticket must be in
// old; a concurrent change of it is a conflict.
func setTicketProblem(ctx context.Context, tx *sqlx.Tx, s cmdb.Scope, now time.Time, ticket, old, new int64) error {
	res, err := tx.ExecContext(ctx, `UPDATE tickets SET problem_id = $3, updated_at = $4
		WHERE id = $1 AND problem_id IS NOT DISTINCT FROM $2`, ticket, nullID(old), nullID(new), now)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return &cmdb.Error{Code: cmdb.ECONFLICT, Field: "ticket", Message: fmt.Sprintf("Ticket %d was put into another problem meanwhile.", ticket)}
	}
	num := func(id int64) string {
		if id == 0 {
			return ""
		}
		return cmdb.ProblemNumber(id)
	}
	if err := addTicketHistory(ctx, tx, ticket, now, s, cmdb.ChannelAPI, []change{{"problem", num(old), num(new)}}); err != nil {
		return err
	}
	var number string
	if err := tx.GetContext(ctx, &number, `SELECT number FROM tickets WHERE id = $1`, ticket); err != nil {
		return err
	}
	if old != 0 {
		if err := addProblemHistory(ctx, tx, old, now, s, problemChange{field: "ticket", old: number, ticket: ticket}); err != nil {
			return err
		}
	}
	if new != 0 {
		return addProblemHistory(ctx, tx, new, now, s, problemChange{field: "ticket", new: number, ticket: ticket})
	}
	return nil
}

// problemChange is one change of a problem, for its history.
type problemChange struct {
	field, old, new string
	ticket          int64
}

func addProblemHistory(ctx context.Context, tx *sqlx.Tx, problem int64, at time.Time, s cmdb.Scope, cs ...problemChange) error {
	for _, c := range cs {
		if _, err := tx.ExecContext(ctx, `INSERT INTO problem_history (problem_id, at, subject, field, old_value, new_value, ticket_id)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`, problem, at, s.Source(), c.field, c.old, c.new, nullID(c.ticket)); err != nil {
			return err
		}
	}
	return nil
}

// patternCIs lists the authority's CIs of a vendor and model, spellings
// joined as FindFailurePatterns joins them ("Hewlett-Packard" is "HP",
// case and spaces do not count), so that a problem made from a pattern
// finds the pattern's devices.
func patternCIs(ctx context.Context, tx *sqlx.Tx, auth int64, vendor, model string) ([]int64, error) {
	var rows []struct {
		ID     int64  `db:"id"`
		Vendor string `db:"vendor"`
	}
	if err := tx.SelectContext(ctx, &rows, `SELECT id, vendor FROM cis WHERE authority_id = $1 AND merged_into IS NULL
		AND lower(regexp_replace(btrim(model), '\s+', ' ', 'g')) = $2`, auth, strings.ToLower(strings.Join(strings.Fields(model), " "))); err != nil {
		return nil, err
	}
	key := cmdb.VendorKey(vendor)
	var out []int64
	for _, r := range rows {
		if cmdb.VendorKey(strings.TrimSpace(r.Vendor)) == key {
			out = append(out, r.ID)
		}
	}
	return out, nil
}

// FindProblemHistory lists a problem's changes; see cmdb.ProblemStore.
func (db *DB) FindProblemHistory(ctx context.Context, s cmdb.Scope, id int64) ([]*cmdb.ProblemHistoryEntry, error) {
	p, err := findProblem(ctx, db.db, s, id, false)
	if err != nil {
		return nil, mapErr("postgres.FindProblemHistory", err)
	}
	var w where
	ticketScope(&w, s)
	rows, err := db.db.QueryxContext(ctx, rebind(`SELECT h.id, h.problem_id, h.at, h.subject, h.field, h.old_value, h.new_value,
		coalesce(h.ticket_id, 0) FROM problem_history h WHERE h.problem_id = ?
		AND (h.ticket_id IS NULL OR EXISTS (SELECT 1 FROM tickets t WHERE t.id = h.ticket_id AND `+w.String()+`)) ORDER BY h.id`),
		append([]any{p.ID}, w.args...)...)
	if err != nil {
		return nil, mapErr("postgres.FindProblemHistory", err)
	}
	defer rows.Close()
	out := []*cmdb.ProblemHistoryEntry{}
	for rows.Next() {
		var h cmdb.ProblemHistoryEntry
		if err := rows.Scan(&h.ID, &h.ProblemID, &h.At, &h.Subject, &h.Field, &h.Old, &h.New, &h.TicketID); err != nil {
			return nil, mapErr("postgres.FindProblemHistory", err)
		}
		out = append(out, &h)
	}
	return out, mapErr("postgres.FindProblemHistory", rows.Err())
}

// problemForChange loads a problem for a change by the authority's IT:
// EFORBIDDEN for school IT, who see it but may not change it.
func problemForChange(ctx context.Context, tx *sqlx.Tx, s cmdb.Scope, id int64) (*cmdb.Problem, error) {
	p, err := findProblem(ctx, tx, s, id, true)
	if err != nil {
		return nil, err
	}
	if !s.CanSeeAuthority(p.AuthorityID) {
		return nil, cmdb.Errorf(cmdb.EFORBIDDEN, "Only the authority's IT changes problems.")
	}
	return p, nil
}

// UpdateProblem changes a problem; see cmdb.ProblemStore.
func (db *DB) UpdateProblem(ctx context.Context, s cmdb.Scope, id int64, u cmdb.ProblemUpdate) (*cmdb.Problem, error) {
	if err := u.Validate(); err != nil {
		return nil, err
	}
	var out *cmdb.Problem
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		p, err := problemForChange(ctx, tx, s, id)
		if err != nil {
			return err
		}
		if p.Status == cmdb.ProblemClosed {
			return &cmdb.Error{Code: cmdb.ECONFLICT, Field: "status", Message: "The problem is closed; a closed problem cannot change. Open a new one."}
		}
		if u.Status != nil {
			if err := cmdb.CheckProblemTransition(p.Status, *u.Status); err != nil {
				return err
			}
		}
		before := *p
		for _, f := range []struct{ dst, v *string }{{&p.Title, u.Title}, {&p.Description, u.Description}, {&p.Status, u.Status},
			{&p.KnownError, u.KnownError}, {&p.Workaround, u.Workaround}} {
			if f.v != nil {
				*f.dst = *f.v
			}
		}
		if p.Status == cmdb.ProblemKnownError && strings.TrimSpace(p.KnownError) == "" {
			return cmdb.Invalid("known_error", "is required for status known_error: write down the cause")
		}
		if p.Title == before.Title && p.Description == before.Description && p.Status == before.Status &&
			p.KnownError == before.KnownError && p.Workaround == before.Workaround {
			out = p
			return nil
		}
		p.Title = strings.TrimSpace(p.Title)
		now := db.now()
		if _, err := tx.ExecContext(ctx, `UPDATE problems SET title = $2, description = $3, status = $4, known_error = $5,
			workaround = $6, updated_at = $7 WHERE id = $1`, p.ID, p.Title, p.Description, p.Status,
			p.KnownError, p.Workaround, now); err != nil {
			return err
		}
		var cs []problemChange
		for _, f := range []struct{ name, old, new string }{{"title", before.Title, p.Title}, {"description", before.Description, p.Description},
			{"status", before.Status, p.Status}, {"known_error", before.KnownError, p.KnownError}, {"workaround", before.Workaround, p.Workaround}} {
			if f.old != f.new {
				cs = append(cs, problemChange{field: f.name, old: f.old, new: f.new})
			}
		}
		if err := addProblemHistory(ctx, tx, p.ID, now, s, cs...); err != nil {
			return err
		}
		out, err = findProblem(ctx, tx, s, id, false)
		return err
	})
	return out, mapErr("postgres.UpdateProblem", err)
}

// LinkProblemTicket puts a ticket into a problem; see cmdb.ProblemStore.
func (db *DB) LinkProblemTicket(ctx context.Context, s cmdb.Scope, problemID, ticketID int64) (*cmdb.Problem, error) {
	var out *cmdb.Problem
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		p, err := problemForChange(ctx, tx, s, problemID)
		if err != nil {
			return err
		}
		t, err := findTicket(ctx, tx, s, ticketID, true)
		if err != nil {
			return err
		}
		switch {
		case t.AuthorityID != p.AuthorityID:
			return notFound("ticket", ticketID)
		case t.ProblemID == p.ID:
			out = p
			return nil
		case t.ProblemID != 0:
			return &cmdb.Error{Code: cmdb.ECONFLICT, Field: "ticket", Message: fmt.Sprintf("Ticket %s is already in problem %s; take it out there first.",
				t.Number, cmdb.ProblemNumber(t.ProblemID))}
		case p.Status == cmdb.ProblemClosed:
			return &cmdb.Error{Code: cmdb.ECONFLICT, Field: "status", Message: "The problem is closed; it takes no more tickets."}
		}
		now := db.now()
		if err := setTicketProblem(ctx, tx, s, now, t.ID, 0, p.ID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE problems SET updated_at = $2 WHERE id = $1`, p.ID, now); err != nil {
			return err
		}
		out, err = findProblem(ctx, tx, s, p.ID, false)
		return err
	})
	return out, mapErr("postgres.LinkProblemTicket", err)
}

// UnlinkProblemTicket takes a ticket out of a problem; see
// cmdb.ProblemStore.
func (db *DB) UnlinkProblemTicket(ctx context.Context, s cmdb.Scope, problemID, ticketID int64) (*cmdb.Problem, error) {
	var out *cmdb.Problem
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		p, err := problemForChange(ctx, tx, s, problemID)
		if err != nil {
			return err
		}
		t, err := findTicket(ctx, tx, s, ticketID, true)
		if err != nil {
			return err
		}
		if t.ProblemID != p.ID {
			return &cmdb.Error{Code: cmdb.ENOTFOUND, Message: fmt.Sprintf("Ticket %d is not in problem %s.", ticketID, p.Number)}
		}
		now := db.now()
		if err := setTicketProblem(ctx, tx, s, now, t.ID, p.ID, 0); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE problems SET updated_at = $2 WHERE id = $1`, p.ID, now); err != nil {
			return err
		}
		out, err = findProblem(ctx, tx, s, p.ID, false)
		return err
	})
	return out, mapErr("postgres.UnlinkProblemTicket", err)
}
