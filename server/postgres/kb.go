package postgres

import (
	"context"
	"database/sql"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	"github.com/schulit/cmdb/server/cmdb"
	"github.com/schulit/cmdb/server/markdown"
)

var _ cmdb.KBStore = (*DB)(nil)

const kbColumns = `a.id, a.authority_id, a.title, a.body_md, a.body_html, a.public, a.classes, a.models, a.category_ids,
	coalesce(a.source_ticket_id, 0), a.version, a.created_by, a.created_at, a.updated_by, a.updated_at`

func scanKBArticle(sc interface{ Scan(...any) error }, extra ...any) (*cmdb.KBArticle, error) {
	var a cmdb.KBArticle
	var classes, models pq.StringArray
	var cats pq.Int64Array
	dst := append([]any{&a.ID, &a.AuthorityID, &a.Title, &a.BodyMD, &a.BodyHTML, &a.Public, &classes, &models, &cats,
		&a.SourceTicketID, &a.Version, &a.CreatedBy, &a.CreatedAt, &a.UpdatedBy, &a.UpdatedAt}, extra...)
	if err := sc.Scan(dst...); err != nil {
		return nil, err
	}
	a.Classes, a.Models, a.CategoryIDs = []string(classes), []string(models), []int64(cats)
	return &a, nil
}

// kbScope adds the condition for the articles the scope sees: all of
// its authorities (authority IT), of its schools' authorities (school
// IT) and of the authorities its providers have contracts with; only the
// public ones of its schools' authorities for teachers.
func kbScope(w *where, s cmdb.Scope) {
	if s.Admin {
		return
	}
	w.add(`(a.authority_id = ANY(?)
		OR a.authority_id IN (SELECT authority_id FROM schools WHERE id = ANY(?))
		OR (a.public AND a.authority_id IN (SELECT authority_id FROM schools WHERE id = ANY(?)))
		OR a.authority_id IN (SELECT authority_id FROM provider_contracts WHERE provider_id = ANY(?)))`,
		pq.Array(s.Authorities), pq.Array(s.Schools), pq.Array(s.ReadSchools), pq.Array(s.Providers))
}

func findKBArticle(ctx context.Context, q sqlx.QueryerContext, s cmdb.Scope, id int64, lock bool) (*cmdb.KBArticle, error) {
	var w where
	kbScope(&w, s)
	w.add("a.id = ?", id)
	query := `SELECT ` + kbColumns + ` FROM kb_articles a WHERE ` + w.String()
	if lock {
		query += ` FOR UPDATE OF a`
	}
	a, err := scanKBArticle(q.QueryRowxContext(ctx, rebind(query), w.args...))
	if err == sql.ErrNoRows {
		return nil, notFound("article", id)
	}
	return a, err
}

// FindKBArticleByID returns one article; see cmdb.KBStore.
func (db *DB) FindKBArticleByID(ctx context.Context, s cmdb.Scope, id int64) (*cmdb.KBArticle, error) {
	a, err := findKBArticle(ctx, db.db, s, id, false)
	return a, mapErr("postgres.FindKBArticleByID", err)
}

// checkKBCategories checks that every category exists and is one the
// authority uses (a default or its own).
func checkKBCategories(ctx context.Context, tx *sqlx.Tx, auth int64, ids []int64) error {
	var known []int64
	if err := tx.SelectContext(ctx, &known, `SELECT id FROM ticket_categories WHERE id = ANY($1)
		AND (authority_id IS NULL OR authority_id = $2)`, pq.Array(ids), auth); err != nil {
		return err
	}
	for i, id := range ids {
		if !slices.Contains(known, id) {
			return unknownRef(fmt.Sprintf("category_ids[%d]", i), "ticket category", id)
		}
	}
	return nil
}

// saveKBArticle checks the references of a valid article, renders it and
// inserts it; a is filled from the stored row.
func (db *DB) saveKBArticle(ctx context.Context, tx *sqlx.Tx, s cmdb.Scope, a *cmdb.KBArticle) error {
	if err := checkKBCategories(ctx, tx, a.AuthorityID, a.CategoryIDs); err != nil {
		return err
	}
	html, err := markdown.Render(a.BodyMD)
	if err != nil {
		return err
	}
	now := db.now()
	var id int64
	if err := tx.GetContext(ctx, &id, `INSERT INTO kb_articles (authority_id, title, body_md, body_html, public, classes, models,
		category_ids, source_ticket_id, created_by, created_at, updated_by, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $10, $11) RETURNING id`,
		a.AuthorityID, strings.TrimSpace(a.Title), a.BodyMD, html, a.Public, pq.Array(a.Classes), pq.Array(a.Models),
		pq.Array(a.CategoryIDs), nullID(a.SourceTicketID), s.Source(), now); err != nil {
		return err
	}
	got, err := findKBArticle(ctx, tx, cmdb.AdminScope(s.Subject), id, false)
	if err == nil {
		*a = *got
	}
	return err
}

// CreateKBArticle stores an article; see cmdb.KBStore.
func (db *DB) CreateKBArticle(ctx context.Context, s cmdb.Scope, a *cmdb.KBArticle) error {
	if err := a.Validate(); err != nil {
		return err
	}
	// Only authority IT write, in any authority: the others are told so
	// at once (not that authority_id is missing), and learn nothing of
	// the authority or the source ticket they name.
	if !s.Admin && len(s.Authorities) == 0 {
		return cmdb.Errorf(cmdb.EFORBIDDEN, "Only the authority's IT writes knowledge-base articles.")
	}
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		if a.SourceTicketID != 0 {
			t, err := findTicket(ctx, tx, s, a.SourceTicketID, false)
			if err != nil {
				return asRef(err, "source_ticket_id", "ticket", a.SourceTicketID)
			}
			if a.AuthorityID != 0 && t.AuthorityID != a.AuthorityID {
				return unknownRef("source_ticket_id", "ticket", a.SourceTicketID)
			}
			a.AuthorityID = t.AuthorityID
		}
		if a.AuthorityID == 0 && len(s.Authorities) == 1 {
			a.AuthorityID = s.Authorities[0]
		}
		if a.AuthorityID == 0 {
			return cmdb.Invalid("authority_id", "is required: the authority the article belongs to")
		}
		if err := staffAuthority(ctx, tx, s, "authority_id", a.AuthorityID, "writes knowledge-base articles"); err != nil {
			return err
		}
		return db.saveKBArticle(ctx, tx, s, a)
	})
	return mapErr("postgres.CreateKBArticle", err)
}

// kbForChange loads an article for a change by the authority's IT:
// EFORBIDDEN for those who only read it.
func kbForChange(ctx context.Context, tx *sqlx.Tx, s cmdb.Scope, id int64) (*cmdb.KBArticle, error) {
	a, err := findKBArticle(ctx, tx, s, id, true)
	if err != nil {
		return nil, err
	}
	if !s.CanSeeAuthority(a.AuthorityID) {
		return nil, cmdb.Errorf(cmdb.EFORBIDDEN, "Only the authority's IT writes knowledge-base articles.")
	}
	return a, nil
}

// UpdateKBArticle changes an article; see cmdb.KBStore.
func (db *DB) UpdateKBArticle(ctx context.Context, s cmdb.Scope, id int64, u cmdb.KBArticleUpdate) (*cmdb.KBArticle, error) {
	var out *cmdb.KBArticle
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		a, err := kbForChange(ctx, tx, s, id)
		if err != nil {
			return err
		}
		if err := u.Apply(a); err != nil {
			return err
		}
		if err := checkKBCategories(ctx, tx, a.AuthorityID, a.CategoryIDs); err != nil {
			return err
		}
		html, err := markdown.Render(a.BodyMD)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE kb_articles SET title = $2, body_md = $3, body_html = $4, public = $5, classes = $6,
			models = $7, category_ids = $8, version = version + 1, updated_by = $9, updated_at = $10 WHERE id = $1`,
			a.ID, strings.TrimSpace(a.Title), a.BodyMD, html, a.Public, pq.Array(a.Classes), pq.Array(a.Models),
			pq.Array(a.CategoryIDs), s.Source(), db.now()); err != nil {
			return err
		}
		out, err = findKBArticle(ctx, tx, s, id, false)
		return err
	})
	return out, mapErr("postgres.UpdateKBArticle", err)
}

// DeleteKBArticle deletes an article; see cmdb.KBStore.
func (db *DB) DeleteKBArticle(ctx context.Context, s cmdb.Scope, id int64) error {
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		if _, err := kbForChange(ctx, tx, s, id); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM kb_articles WHERE id = $1`, id)
		return err
	})
	return mapErr("postgres.DeleteKBArticle", err)
}

// kbWord is a word of a search text for the fallback query: letters and
// digits only, so that it can never be tsquery syntax.
var kbWord = regexp.MustCompile(`[\p{L}\p{N}]+`)

// kbFallbackQuery is a to_tsquery text matching any word of q or any
// word beginning with one ("Bea" finds "Beamer"); "" when q has no words.
// Words the web search excludes (-HDMI) stay excluded, and its "or" is
// no word. A number also matches where PostgreSQL's parser read it with
// the hyphen before it as a negative number ("4250" finds "HP-4250").
func kbFallbackQuery(q string) string {
	var some, not []string
	for _, field := range strings.Fields(q) {
		excluded := strings.HasPrefix(field, "-")
		for _, w := range kbWord.FindAllString(field, -1) {
			w = strings.ToLower(w)
			if w == "or" && !excluded {
				continue
			}
			forms := []string{w}
			if strings.Trim(w, "0123456789") == "" {
				forms = append(forms, "'-"+w+"'")
			}
			for _, f := range forms {
				if excluded {
					not = append(not, "!"+f)
				} else if len(some) < 20 {
					some = append(some, f+":*")
				}
			}
		}
	}
	if len(some) == 0 {
		return ""
	}
	return strings.Join(append([]string{"(" + strings.Join(some, " | ") + ")"}, not...), " & ")
}

// FindKBArticles searches articles; see cmdb.KBStore. A query is first
// run as web search (every word must match); only when that finds
// nothing it runs again matching any word or word beginning, so that
// short and half-typed queries find something too.
func (db *DB) FindKBArticles(ctx context.Context, s cmdb.Scope, f cmdb.KBFilter) ([]*cmdb.KBArticle, int, error) {
	if err := f.Validate(); err != nil {
		return nil, 0, err
	}
	if f.Limit == 0 {
		f.Limit = 20
	}
	q := strings.TrimSpace(f.Query)
	if q == "" {
		return db.findKBArticles(ctx, s, f, "", "")
	}
	out, total, err := db.findKBArticles(ctx, s, f, "websearch_to_tsquery('german', ?)", q)
	if err != nil || total > 0 {
		return out, total, err
	}
	if fb := kbFallbackQuery(q); fb != "" {
		return db.findKBArticles(ctx, s, f, "to_tsquery('german', ?)", fb)
	}
	return out, total, nil
}

// findKBArticles runs one search; tsq is the tsquery expression with one
// placeholder for arg, "" for none.
func (db *DB) findKBArticles(ctx context.Context, s cmdb.Scope, f cmdb.KBFilter, tsq, arg string) ([]*cmdb.KBArticle, int, error) {
	var w where
	kbScope(&w, s)
	if f.AuthorityID != 0 {
		w.add("a.authority_id = ?", f.AuthorityID)
	}
	if f.PublicOnly {
		w.add("a.public")
	}
	// Specific fits first: an article tagged with the filter's model
	// before one that fits every model, and so on.
	var order []string
	if f.Model != "" {
		w.add("(cardinality(a.models) = 0 OR EXISTS (SELECT 1 FROM unnest(a.models) m WHERE lower(m) = lower(?)))", cmdb.KBModel(f.Model, ""))
		order = append(order, "cardinality(a.models) > 0 DESC")
	}
	if f.CategoryID != 0 {
		w.add("(cardinality(a.category_ids) = 0 OR ? = ANY(a.category_ids))", f.CategoryID)
		order = append(order, "cardinality(a.category_ids) > 0 DESC")
	}
	if f.Class != "" {
		w.add("(cardinality(a.classes) = 0 OR ? = ANY(a.classes))", f.Class)
		order = append(order, "cardinality(a.classes) > 0 DESC")
	}
	rank, rankArgs := "0::float8", []any{}
	if tsq != "" {
		w.add("a.search @@ "+tsq, arg)
		rank, rankArgs = "ts_rank(a.search, "+tsq+")::float8", []any{arg}
		order = append([]string{"rank DESC"}, order...)
	}
	order = append(order, "a.updated_at DESC", "a.id DESC")
	var total int
	if err := db.db.GetContext(ctx, &total, rebind(`SELECT count(*) FROM kb_articles a WHERE `+w.String()), w.args...); err != nil {
		return nil, 0, mapErr("postgres.FindKBArticles", err)
	}
	args := append(append(rankArgs, w.args...), f.Limit, f.Offset)
	rows, err := db.db.QueryxContext(ctx, rebind(`SELECT `+kbColumns+`, `+rank+` AS rank FROM kb_articles a WHERE `+w.String()+
		` ORDER BY `+strings.Join(order, ", ")+` LIMIT ? OFFSET ?`), args...)
	if err != nil {
		return nil, 0, mapErr("postgres.FindKBArticles", err)
	}
	defer rows.Close()
	out := []*cmdb.KBArticle{}
	for rows.Next() {
		var r float64
		a, err := scanKBArticle(rows, &r)
		if err != nil {
			return nil, 0, mapErr("postgres.FindKBArticles", err)
		}
		a.Rank = r
		out = append(out, a)
	}
	return out, total, mapErr("postgres.FindKBArticles", rows.Err())
}

// DraftKBArticleFromTicket makes an internal article from a resolved
// ticket; see cmdb.KBStore.
func (db *DB) DraftKBArticleFromTicket(ctx context.Context, s cmdb.Scope, ticketID int64) (*cmdb.KBArticle, error) {
	var out *cmdb.KBArticle
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		t, err := findTicket(ctx, tx, s, ticketID, false)
		if err != nil {
			return err
		}
		if !s.CanSeeAuthority(t.AuthorityID) {
			return cmdb.Errorf(cmdb.EFORBIDDEN, "Only the authority's IT writes knowledge-base articles.")
		}
		if t.Open() {
			return &cmdb.Error{Code: cmdb.ECONFLICT, Field: "status", Message: fmt.Sprintf("The ticket is %s; an article is made from a resolved ticket's solution.", t.Status)}
		}
		var solution string
		err = tx.GetContext(ctx, &solution, `SELECT body FROM ticket_comments WHERE ticket_id = $1 AND NOT internal ORDER BY id DESC LIMIT 1`, t.ID)
		if err == sql.ErrNoRows {
			return &cmdb.Error{Code: cmdb.ECONFLICT, Field: "comments", Message: "The ticket has no public comment to take the solution from; write the solution as a comment first."}
		} else if err != nil {
			return err
		}
		a := &cmdb.KBArticle{AuthorityID: t.AuthorityID, Title: t.Title, SourceTicketID: t.ID, CategoryIDs: []int64{t.CategoryID}}
		var body strings.Builder
		if d := strings.TrimSpace(t.Description); d != "" {
			fmt.Fprintf(&body, "## Fehlerbild\n\n%s\n\n", d)
		}
		fmt.Fprintf(&body, "## Lösung\n\n%s\n", strings.TrimSpace(solution))
		a.BodyMD = body.String()
		rows, err := tx.QueryxContext(ctx, `SELECT DISTINCT c.class, c.vendor, c.model FROM ticket_cis x JOIN cis c ON c.id = x.ci_id
			WHERE x.ticket_id = $1 ORDER BY 1, 2, 3`, t.ID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var class, vendor, model string
			if err := rows.Scan(&class, &vendor, &model); err != nil {
				return err
			}
			a.Classes = append(a.Classes, class)
			if vendor != "" && model != "" {
				a.Models = append(a.Models, cmdb.KBModel(vendor, model))
			}
		}
		if err := rows.Err(); err != nil {
			return err
		}
		if err := a.Validate(); err != nil {
			return err
		}
		if err := db.saveKBArticle(ctx, tx, s, a); err != nil {
			return err
		}
		out = a
		return nil
	})
	return out, mapErr("postgres.DraftKBArticleFromTicket", err)
}
