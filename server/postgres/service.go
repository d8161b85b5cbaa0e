package postgres

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	"github.com/schulit/cmdb/server/cmdb"
)

var _ cmdb.CatalogueStore = (*DB)(nil)

const serviceColumns = `sv.id, sv.authority_id, sv.name, sv.description, sv.active, sv.position, coalesce(sv.provider_id, 0),
	sv.level, sv.response_minutes, sv.resolve_minutes, sv.form, sv.created_at, sv.updated_at`

func scanService(sc interface{ Scan(...any) error }) (*cmdb.Service, error) {
	var v cmdb.Service
	var resp, res sql.NullInt64
	var form []byte
	if err := sc.Scan(&v.ID, &v.AuthorityID, &v.Name, &v.Description, &v.Active, &v.Position, &v.ProviderID, &v.Level,
		&resp, &res, &form, &v.CreatedAt, &v.UpdatedAt); err != nil {
		return nil, err
	}
	if resp.Valid {
		n := int(resp.Int64)
		v.ResponseMinutes = &n
	}
	if res.Valid {
		n := int(res.Int64)
		v.ResolveMinutes = &n
	}
	v.Form = []cmdb.FormField{}
	if err := json.Unmarshal(form, &v.Form); err != nil {
		return nil, fmt.Errorf("service %d form: %w", v.ID, err)
	}
	return &v, nil
}

// memberScope adds the condition for rows of the authorities the caller
// belongs to: authority IT of it, or school IT or teacher at one of its
// schools. Providers belong to none.
func memberScope(w *where, s cmdb.Scope, col string) {
	if s.Admin {
		return
	}
	w.add("("+col+" = ANY(?) OR "+col+" IN (SELECT authority_id FROM schools WHERE id = ANY(?)))",
		pq.Array(s.Authorities), pq.Array(s.VisibleSchools()))
}

// isMember reports whether the caller belongs to the authority (see memberScope).
func isMember(ctx context.Context, q sqlx.QueryerContext, s cmdb.Scope, authority int64) (bool, error) {
	if s.CanSeeAuthority(authority) {
		return true, nil
	}
	var ok bool
	err := sqlx.GetContext(ctx, q, &ok, `SELECT EXISTS (SELECT 1 FROM schools WHERE authority_id = $1 AND id = ANY($2))`,
		authority, pq.Array(s.VisibleSchools()))
	return ok, err
}

// changeAuthority resolves the authority a catalogue change is for (0:
// the caller's only one) and checks the caller is its IT: EFORBIDDEN for
// other members, else EINVALID naming field.
func changeAuthority(ctx context.Context, q sqlx.QueryerContext, s cmdb.Scope, field string, authority int64) (int64, error) {
	if authority == 0 {
		if len(s.Authorities) != 1 {
			return 0, cmdb.Invalid(field, "is required: the authority this is for")
		}
		authority = s.Authorities[0]
	}
	if s.CanSeeAuthority(authority) {
		var ok bool
		if err := sqlx.GetContext(ctx, q, &ok, `SELECT EXISTS (SELECT 1 FROM authorities WHERE id = $1)`, authority); err != nil {
			return 0, err
		} else if ok {
			return authority, nil
		}
	} else if member, err := isMember(ctx, q, s, authority); err != nil {
		return 0, err
	} else if member {
		return 0, &cmdb.Error{Code: cmdb.EFORBIDDEN, Field: field, Message: "Only the authority's IT changes the service catalogue and the ticket categories."}
	}
	return 0, unknownRef(field, "authority", authority)
}

// findService loads a service the caller sees: members of its authority
// the active ones, its IT (and admins) every one.
func findService(ctx context.Context, q sqlx.QueryerContext, s cmdb.Scope, id int64, lock bool) (*cmdb.Service, error) {
	var w where
	memberScope(&w, s, "sv.authority_id")
	if !s.Admin {
		w.add("(sv.active OR sv.authority_id = ANY(?))", pq.Array(s.Authorities))
	}
	w.add("sv.id = ?", id)
	query := `SELECT ` + serviceColumns + ` FROM services sv WHERE ` + w.String()
	if lock {
		query += ` FOR UPDATE`
	}
	v, err := scanService(q.QueryRowxContext(ctx, rebind(query), w.args...))
	if err == sql.ErrNoRows {
		return nil, notFound("service", id)
	}
	return v, err
}

// FindServiceByID returns a service; see cmdb.CatalogueStore.
func (db *DB) FindServiceByID(ctx context.Context, s cmdb.Scope, id int64) (*cmdb.Service, error) {
	v, err := findService(ctx, db.db, s, id, false)
	return v, mapErr("postgres.FindServiceByID", err)
}

// FindServices lists services; see cmdb.CatalogueStore.
func (db *DB) FindServices(ctx context.Context, s cmdb.Scope, f cmdb.ServiceFilter) ([]*cmdb.Service, error) {
	var w where
	memberScope(&w, s, "sv.authority_id")
	switch {
	case !f.Inactive:
		w.add("sv.active")
	case !s.Admin:
		w.add("(sv.active OR sv.authority_id = ANY(?))", pq.Array(s.Authorities))
	}
	if f.AuthorityID != 0 {
		w.add("sv.authority_id = ?", f.AuthorityID)
	}
	rows, err := db.db.QueryxContext(ctx, rebind(`SELECT `+serviceColumns+` FROM services sv WHERE `+w.String()+
		` ORDER BY sv.authority_id, sv.position, sv.name, sv.id`), w.args...)
	if err != nil {
		return nil, mapErr("postgres.FindServices", err)
	}
	defer rows.Close()
	out := []*cmdb.Service{}
	for rows.Next() {
		v, err := scanService(rows)
		if err != nil {
			return nil, mapErr("postgres.FindServices", err)
		}
		out = append(out, v)
	}
	return out, mapErr("postgres.FindServices", rows.Err())
}

// checkServiceProvider checks the assignee group of a service.
func checkServiceProvider(ctx context.Context, tx *sqlx.Tx, v *cmdb.Service) error {
	if v.ProviderID == 0 {
		return nil
	}
	var ok bool
	if err := tx.GetContext(ctx, &ok, `SELECT EXISTS (SELECT 1 FROM provider_contracts WHERE provider_id = $1 AND authority_id = $2)`,
		v.ProviderID, v.AuthorityID); err != nil {
		return err
	} else if !ok {
		return unknownRef("provider_id", "provider with a contract for this authority", v.ProviderID)
	}
	return nil
}

// CreateService adds a service; see cmdb.CatalogueStore.
func (db *DB) CreateService(ctx context.Context, s cmdb.Scope, v *cmdb.Service) error {
	if v.AuthorityID < 0 {
		return cmdb.Invalid("authority_id", "must be an authority id")
	}
	if err := v.Validate(); err != nil {
		return err
	}
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		a, err := changeAuthority(ctx, tx, s, "authority_id", v.AuthorityID)
		if err != nil {
			return err
		}
		v.AuthorityID = a
		if err := checkServiceProvider(ctx, tx, v); err != nil {
			return err
		}
		now := db.now()
		form, err := json.Marshal(v.Form)
		if err != nil {
			return err
		}
		if err := tx.GetContext(ctx, &v.ID, `INSERT INTO services (authority_id, name, description, active, position, provider_id,
			level, response_minutes, resolve_minutes, form, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11) RETURNING id`, v.AuthorityID, v.Name, v.Description, v.Active,
			v.Position, nullID(v.ProviderID), v.Level, v.ResponseMinutes, v.ResolveMinutes, form, now); err != nil {
			return err
		}
		v.CreatedAt, v.UpdatedAt = now, now
		return nil
	})
	return mapErr("postgres.CreateService", err)
}

// UpdateService changes a service; see cmdb.CatalogueStore.
func (db *DB) UpdateService(ctx context.Context, s cmdb.Scope, id int64, u cmdb.ServiceUpdate) (*cmdb.Service, error) {
	var out *cmdb.Service
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		v, err := findService(ctx, tx, s, id, true)
		if err != nil {
			return err
		}
		if !s.CanSeeAuthority(v.AuthorityID) {
			return &cmdb.Error{Code: cmdb.EFORBIDDEN, Message: "Only the authority's IT changes the service catalogue."}
		}
		provider := v.ProviderID
		u.Apply(v)
		if err := v.Validate(); err != nil {
			return err
		}
		if v.ProviderID != provider {
			if err := checkServiceProvider(ctx, tx, v); err != nil {
				return err
			}
		}
		form, err := json.Marshal(v.Form)
		if err != nil {
			return err
		}
		v.UpdatedAt = db.now()
		if _, err := tx.ExecContext(ctx, `UPDATE services SET name = $2, description = $3, active = $4, position = $5, provider_id = $6,
			level = $7, response_minutes = $8, resolve_minutes = $9, form = $10, updated_at = $11 WHERE id = $1`, v.ID, v.Name,
			v.Description, v.Active, v.Position, nullID(v.ProviderID), v.Level, v.ResponseMinutes, v.ResolveMinutes, form, v.UpdatedAt); err != nil {
			return err
		}
		out = v
		return nil
	})
	return out, mapErr("postgres.UpdateService", err)
}

// applyService fills a new request from the service it names, once the
// ticket is placed (p) and the caller's rights are checked: the service
// must be an active one of the ticket's authority that the caller sees;
// the answers are checked against its form (rooms and CIs named in them
// must be visible and lie in the ticket's authority and school); its
// provider and level become the ticket's unless given; without a
// category the ticket gets the general "Sonstiges" (the authority's own
// if it has one, else the platform's).
func applyService(ctx context.Context, tx *sqlx.Tx, s cmdb.Scope, p *ticketPlace, t *cmdb.Ticket) error {
	if t.ServiceID == 0 {
		return nil
	}
	v, err := findService(ctx, tx, s, t.ServiceID, false)
	if err != nil || v.AuthorityID != p.authority {
		return cmpErr(asRef(err, "service_id", "service", t.ServiceID), unknownRef("service_id", "service", t.ServiceID))
	}
	if !v.Active {
		return cmdb.Invalid("service_id", "the service %q is no longer offered", v.Name)
	}
	answers, err := cmdb.ValidateAnswers(v.Form, t.FormAnswers)
	if err != nil {
		return err
	}
	for _, f := range v.Form {
		id, ok := answers[f.Key].(int64)
		if !ok {
			continue
		}
		if err := checkAnswerRef(ctx, tx, s, p, f, id); err != nil {
			return err
		}
	}
	t.FormAnswers = answers
	if t.ProviderID == 0 && t.AssigneeUserID == 0 {
		t.ProviderID = v.ProviderID
	}
	if t.Level == 0 {
		t.Level = v.Level
	}
	if t.CategoryID == 0 {
		err := tx.GetContext(ctx, &t.CategoryID, `SELECT c.id FROM ticket_categories c WHERE c.class = 'general' AND c.name = 'Sonstiges'
			AND c.active AND (c.authority_id IS NULL OR c.authority_id = $1)
			AND NOT EXISTS (SELECT 1 FROM ticket_category_hidden h WHERE h.authority_id = $1 AND h.category_id = c.id)
			ORDER BY c.authority_id NULLS LAST LIMIT 1`, p.authority)
		if err == sql.ErrNoRows {
			return cmdb.Invalid("category_id", "is required: the authority offers no general category Sonstiges")
		}
		return err
	}
	return nil
}

// checkAnswerRef checks a room or CI named in a form answer.
func checkAnswerRef(ctx context.Context, tx *sqlx.Tx, s cmdb.Scope, p *ticketPlace, f cmdb.FormField, id int64) error {
	field := "form_answers." + f.Key
	var auth, school int64
	var err error
	if f.Type == cmdb.FieldCI {
		auth, school, _, err = ticketCI(ctx, tx, s, field, id)
		if err != nil {
			return err
		}
	} else {
		var w where
		w.scope(s, "r.authority_id", "r.school_id")
		w.add("r.id = ?", id)
		err = tx.QueryRowxContext(ctx, rebind(`SELECT r.authority_id, r.school_id FROM rooms r WHERE `+w.String()), w.args...).Scan(&auth, &school)
		if err == sql.ErrNoRows {
			return unknownRef(field, "room", id)
		} else if err != nil {
			return err
		}
	}
	switch {
	case auth != p.authority:
		return unknownRef(field, map[string]string{cmdb.FieldCI: "CI", cmdb.FieldRoom: "room"}[f.Type], id)
	case p.school != 0 && school != 0 && school != p.school:
		return cmdb.Invalid(field, "lies in another school than the ticket")
	}
	return nil
}

// saveServiceRequest stores the service and answers of a new ticket.
func saveServiceRequest(ctx context.Context, tx *sqlx.Tx, id int64, t *cmdb.Ticket) error {
	if t.ServiceID == 0 {
		return nil
	}
	answers, err := json.Marshal(t.FormAnswers)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `UPDATE tickets SET service_id = $2, form_answers = $3 WHERE id = $1`, id, t.ServiceID, answers)
	return err
}

// scanServiceColumns reads the service columns appended to ticketColumns.
func scanFormAnswers(t *cmdb.Ticket, raw []byte) error {
	if len(raw) == 0 || string(raw) == "{}" {
		return nil
	}
	return json.Unmarshal(raw, &t.FormAnswers)
}

// CreateTicketCategory adds an authority's own category; see
// cmdb.CatalogueStore.
func (db *DB) CreateTicketCategory(ctx context.Context, s cmdb.Scope, in cmdb.TicketCategoryInput) (*cmdb.TicketCategory, error) {
	c := &cmdb.TicketCategory{Class: in.Class, Active: true}
	if in.Name != nil {
		c.Name = *in.Name
	}
	if in.Position != nil {
		c.Position = *in.Position
	}
	if in.Active != nil {
		c.Active = *in.Active
	}
	if err := validateCategory(c); err != nil {
		return nil, err
	}
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		a, err := changeAuthority(ctx, tx, s, "authority_id", in.AuthorityID)
		if err != nil {
			return err
		}
		c.AuthorityID = a
		if err := checkCategoryName(ctx, tx, c); err != nil {
			return err
		}
		return tx.GetContext(ctx, &c.ID, `INSERT INTO ticket_categories (authority_id, class, name, position, active)
			VALUES ($1, $2, $3, $4, $5) RETURNING id`, a, c.Class, c.Name, c.Position, c.Active)
	})
	if err != nil {
		return nil, mapErr("postgres.CreateTicketCategory", err)
	}
	return c, nil
}

func validateCategory(c *cmdb.TicketCategory) error {
	if c.Class != "general" && !slices.Contains(cmdb.Classes, c.Class) {
		return cmdb.Invalid("class", "must be general or a CI class, not %q", c.Class)
	}
	if c.Name == "" || len([]rune(c.Name)) > 100 {
		return cmdb.Invalid("name", "is required: at most 100 characters")
	}
	if c.Position < 0 || c.Position > 10000 {
		return cmdb.Invalid("position", "must be 0–10000")
	}
	return nil
}

// checkCategoryName refuses a name the authority already offers in the
// class: its own, or a default it has not hidden.
func checkCategoryName(ctx context.Context, tx *sqlx.Tx, c *cmdb.TicketCategory) error {
	var taken bool
	err := tx.GetContext(ctx, &taken, `SELECT EXISTS (SELECT 1 FROM ticket_categories x WHERE x.class = $2 AND lower(x.name) = lower($3)
		AND x.id <> $4 AND (x.authority_id = $1 OR (x.authority_id IS NULL AND x.active
			AND NOT EXISTS (SELECT 1 FROM ticket_category_hidden h WHERE h.authority_id = $1 AND h.category_id = x.id))))`,
		c.AuthorityID, c.Class, c.Name, c.ID)
	if err == nil && taken {
		return &cmdb.Error{Code: cmdb.ECONFLICT, Field: "name", Message: fmt.Sprintf("The authority already has a %s category %q.", c.Class, c.Name)}
	}
	return err
}

// UpdateTicketCategory changes a category; see cmdb.CatalogueStore.
func (db *DB) UpdateTicketCategory(ctx context.Context, s cmdb.Scope, id, authority int64, in cmdb.TicketCategoryInput) (*cmdb.TicketCategory, error) {
	var out *cmdb.TicketCategory
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		var c cmdb.TicketCategory
		var own sql.NullInt64
		err := tx.QueryRowxContext(ctx, `SELECT id, authority_id, class, name, position, active FROM ticket_categories WHERE id = $1 FOR UPDATE`, id).
			Scan(&c.ID, &own, &c.Class, &c.Name, &c.Position, &c.Active)
		if err == sql.ErrNoRows {
			return notFound("ticket category", id)
		} else if err != nil {
			return err
		}
		if in.Class != "" && in.Class != c.Class {
			return cmdb.Invalid("class", "cannot change; add a category of the other class instead")
		}
		if !own.Valid {
			out, err = db.toggleDefaultCategory(ctx, tx, s, &c, authority, in)
			return err
		}
		c.AuthorityID = own.Int64
		if member, err := isMember(ctx, tx, s, c.AuthorityID); err != nil {
			return err
		} else if !member {
			return notFound("ticket category", id)
		} else if !s.CanSeeAuthority(c.AuthorityID) {
			return &cmdb.Error{Code: cmdb.EFORBIDDEN, Message: "Only the authority's IT changes its ticket categories."}
		}
		if in.Name != nil {
			c.Name = *in.Name
		}
		if in.Position != nil {
			c.Position = *in.Position
		}
		if in.Active != nil {
			c.Active = *in.Active
		}
		if err := validateCategory(&c); err != nil {
			return err
		}
		if in.Name != nil {
			if err := checkCategoryName(ctx, tx, &c); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE ticket_categories SET name = $2, position = $3, active = $4 WHERE id = $1`,
			c.ID, c.Name, c.Position, c.Active); err != nil {
			return err
		}
		out = &c
		return nil
	})
	return out, mapErr("postgres.UpdateTicketCategory", err)
}

// toggleDefaultCategory hides or shows a platform default for one
// authority; admins without an authority switch it off or on for all.
func (db *DB) toggleDefaultCategory(ctx context.Context, tx *sqlx.Tx, s cmdb.Scope, c *cmdb.TicketCategory, authority int64, in cmdb.TicketCategoryInput) (*cmdb.TicketCategory, error) {
	if in.Name != nil || in.Position != nil {
		return nil, cmdb.Invalid("name", "a platform default category cannot be renamed or moved; hide it (active false) and add your own")
	}
	if in.Active == nil {
		return c, nil
	}
	if s.Admin && authority == 0 {
		c.Active = *in.Active
		_, err := tx.ExecContext(ctx, `UPDATE ticket_categories SET active = $2 WHERE id = $1`, c.ID, c.Active)
		return c, err
	}
	a, err := changeAuthority(ctx, tx, s, "authority", authority)
	if err != nil {
		if cmdb.ErrorCode(err) == cmdb.EINVALID && cmdb.ErrorField(err) == "authority" && authority != 0 {
			return nil, notFound("authority", authority)
		}
		return nil, err
	}
	if *in.Active {
		_, err = tx.ExecContext(ctx, `DELETE FROM ticket_category_hidden WHERE authority_id = $1 AND category_id = $2`, a, c.ID)
	} else {
		_, err = tx.ExecContext(ctx, `INSERT INTO ticket_category_hidden (authority_id, category_id) VALUES ($1, $2) ON CONFLICT DO NOTHING`, a, c.ID)
	}
	c.Active = *in.Active && c.Active
	return c, err
}

// hiddenCategories leaves out the platform defaults that an authority the
// caller works for has hidden.
func hiddenCategories(w *where, s cmdb.Scope) {
	w.add(`(authority_id IS NOT NULL OR NOT EXISTS (SELECT 1 FROM ticket_category_hidden h WHERE h.category_id = ticket_categories.id
		AND (h.authority_id = ANY(?) OR h.authority_id IN (SELECT authority_id FROM schools WHERE id = ANY(?))
			OR h.authority_id IN (SELECT authority_id FROM provider_contracts WHERE provider_id = ANY(?)))))`,
		pq.Array(s.Authorities), pq.Array(s.VisibleSchools()), pq.Array(s.Providers))
}
