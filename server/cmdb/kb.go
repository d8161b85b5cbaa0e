package cmdb

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
)

// KBArticle is a knowledge-base article of an authority, written in
// Markdown. Public articles are self-help for everybody of the authority
// (teachers see them before they open a ticket: "Kein Bild am Beamer?
// Erst den Eingang prüfen"); internal ones are for IT staff and the
// authority's providers.
//
// Tags say what an article is about; an empty tag list fits everything:
// an article without classes fits every CI class, one without models
// every model, one without categories every category.
type KBArticle struct {
	ID          int64  `json:"id"`
	AuthorityID int64  `json:"authority_id"`
	Title       string `json:"title"`
	BodyMD      string `json:"body_md"`
	// BodyHTML is BodyMD rendered and sanitised when the article was
	// saved, read-only: safe to put into a page as it is.
	BodyHTML string `json:"body_html"`
	Public   bool   `json:"public"`
	// Classes are CI classes ("projector").
	Classes []string `json:"classes"`
	// Models are "<vendor> <model>" strings ("Epson EB-W49"), matched
	// without regard to case.
	Models      []string `json:"models"`
	CategoryIDs []int64  `json:"category_ids"`
	// SourceTicketID is the ticket whose solution the article was made
	// from, if any.
	SourceTicketID int64 `json:"source_ticket_id,omitempty"`
	// Version counts the saves, from 1; an update naming another version
	// than the stored one is refused (someone else saved in between).
	Version   int       `json:"version"`
	CreatedBy string    `json:"created_by"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedBy string    `json:"updated_by"`
	UpdatedAt time.Time `json:"updated_at"`
	// Rank is the search rank of a full-text search, read-only.
	Rank float64 `json:"rank,omitempty"`
}

// Limits of knowledge-base articles.
const (
	MaxKBBodyLen = 100000
	MaxKBTags    = 50
)

// Validate checks the fields a caller sets and normalises the tags
// (trimmed, without duplicates, nil lists made empty); the store checks
// the authority and the categories.
func (a *KBArticle) Validate() error {
	if err := checkText("title", a.Title, 200, true); err != nil {
		return err
	}
	if err := checkText("body_md", a.BodyMD, MaxKBBodyLen, false); err != nil {
		return err
	}
	var err error
	if a.Classes, err = checkKBClasses(a.Classes); err != nil {
		return err
	}
	if a.Models, err = checkKBModels(a.Models); err != nil {
		return err
	}
	if a.CategoryIDs, err = checkKBCategories(a.CategoryIDs); err != nil {
		return err
	}
	if a.AuthorityID < 0 || a.SourceTicketID < 0 {
		return Invalid("body", "ids must be positive")
	}
	return nil
}

func checkKBClasses(in []string) ([]string, error) {
	out := []string{}
	for i, c := range in {
		c = strings.TrimSpace(c)
		if !contains(Classes, c) {
			return nil, Invalid(fmt.Sprintf("classes[%d]", i), "must be a CI class (%s), not %q", strings.Join(Classes, ", "), c)
		}
		if !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	if len(out) > MaxKBTags {
		return nil, Invalid("classes", "must name at most %d classes", MaxKBTags)
	}
	return out, nil
}

func checkKBModels(in []string) ([]string, error) {
	out := []string{}
	for i, m := range in {
		m = strings.Join(strings.Fields(m), " ")
		field := fmt.Sprintf("models[%d]", i)
		if err := checkText(field, m, 200, true); err != nil {
			return nil, err
		}
		if !slices.ContainsFunc(out, func(o string) bool { return strings.EqualFold(o, m) }) {
			out = append(out, m)
		}
	}
	if len(out) > MaxKBTags {
		return nil, Invalid("models", "must name at most %d models", MaxKBTags)
	}
	return out, nil
}

func checkKBCategories(in []int64) ([]int64, error) {
	out := []int64{}
	for i, id := range in {
		if id <= 0 {
			return nil, Invalid(fmt.Sprintf("category_ids[%d]", i), "must be a ticket category id")
		}
		if !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	if len(out) > MaxKBTags {
		return nil, Invalid("category_ids", "must name at most %d categories", MaxKBTags)
	}
	return out, nil
}

// KBModel is the model tag of a CI: "<vendor> <model>".
func KBModel(vendor, model string) string {
	return strings.Join(strings.Fields(vendor+" "+model), " ")
}

// KBArticleUpdate is a change of an article; nil fields stay as they are.
// Version, if set, must be the stored version (ECONFLICT otherwise).
type KBArticleUpdate struct {
	Title       *string   `json:"title"`
	BodyMD      *string   `json:"body_md"`
	Public      *bool     `json:"public"`
	Classes     *[]string `json:"classes"`
	Models      *[]string `json:"models"`
	CategoryIDs *[]int64  `json:"category_ids"`
	Version     *int      `json:"version"`
}

// Apply checks the update and applies it to a.
func (u KBArticleUpdate) Apply(a *KBArticle) error {
	if u.Version != nil && *u.Version != a.Version {
		return &Error{Code: ECONFLICT, Field: "version", Message: fmt.Sprintf("The article was saved by someone else in between (version %d, not %d); reload it and make the change again.", a.Version, *u.Version)}
	}
	if u.Title != nil {
		a.Title = *u.Title
	}
	if u.BodyMD != nil {
		a.BodyMD = *u.BodyMD
	}
	if u.Public != nil {
		a.Public = *u.Public
	}
	if u.Classes != nil {
		a.Classes = *u.Classes
	}
	if u.Models != nil {
		a.Models = *u.Models
	}
	if u.CategoryIDs != nil {
		a.CategoryIDs = *u.CategoryIDs
	}
	return a.Validate()
}

// KBFilter selects articles; zero fields do not filter.
type KBFilter struct {
	AuthorityID int64
	// Query is a German full-text search (web-search syntax: "Wörter in
	// Anführungszeichen", -ausschließen, oder); words are stemmed, so
	// "Drucker" finds "Druckern". When nothing matches all words, articles
	// matching any word or a word's beginning are returned instead.
	Query string
	// Class, Model ("<vendor> <model>") and CategoryID select articles
	// tagged with them or not tagged in that respect at all.
	Class      string
	Model      string
	CategoryID int64
	// PublicOnly shows only public articles (what a teacher sees).
	PublicOnly    bool
	Limit, Offset int
}

// Validate checks the filter values.
func (f *KBFilter) Validate() error {
	if err := checkText("q", f.Query, 500, false); err != nil {
		return err
	}
	if f.Class != "" && !contains(Classes, f.Class) {
		return Invalid("class", "must be a CI class (%s), not %q", strings.Join(Classes, ", "), f.Class)
	}
	if err := checkText("model", f.Model, 200, false); err != nil {
		return err
	}
	if f.CategoryID < 0 {
		return Invalid("category_id", "must be a category id")
	}
	if f.AuthorityID < 0 {
		return Invalid("authority_id", "must be an authority id")
	}
	if f.Limit < 0 || f.Limit > 200 {
		return Invalid("limit", "must be 1–200")
	}
	if f.Offset < 0 {
		return Invalid("offset", "must not be negative")
	}
	return nil
}

// KBStore keeps knowledge-base articles. Every method filters by the
// scope: an article the caller may not see answers ENOTFOUND.
//
// Who sees what: authority IT (and admins) every article of the
// authority, and only they write; school IT and providers with a
// contract for the authority every article, public and internal; teachers
// the public ones of their schools' authority.
type KBStore interface {
	// CreateKBArticle stores an article, rendering its body; EINVALID
	// naming the field for bad input or an unknown category
	// (category_ids[i]), an invisible authority (authority_id) or source
	// ticket (source_ticket_id); EFORBIDDEN for a caller who is nobody's
	// authority IT, or who sees the authority's articles but may not
	// write them.
	CreateKBArticle(ctx context.Context, s Scope, a *KBArticle) error
	// FindKBArticleByID returns an article; ENOTFOUND outside the scope.
	FindKBArticleByID(ctx context.Context, s Scope, id int64) (*KBArticle, error)
	// FindKBArticles searches articles: by rank for a query, else the
	// best-fitting tags first (model, category, class), then the newest.
	// It returns a page and the total number matching; EINVALID for a bad
	// filter.
	FindKBArticles(ctx context.Context, s Scope, f KBFilter) ([]*KBArticle, int, error)
	// UpdateKBArticle changes an article, re-renders it and counts its
	// version up; ECONFLICT naming "version" for a stale version,
	// EFORBIDDEN for a caller who may read but not write it.
	UpdateKBArticle(ctx context.Context, s Scope, id int64, u KBArticleUpdate) (*KBArticle, error)
	// DeleteKBArticle deletes an article; EFORBIDDEN as UpdateKBArticle.
	DeleteKBArticle(ctx context.Context, s Scope, id int64) error
	// DraftKBArticleFromTicket makes an internal article from a resolved
	// or closed ticket: its title, its description as the problem and its
	// last public comment as the solution, tagged with the ticket's CI
	// classes, models and category. ECONFLICT naming "status" for a ticket
	// not resolved yet, naming "comments" for one without a public
	// comment; ENOTFOUND for an invisible ticket; EFORBIDDEN for a caller
	// who may not write articles.
	DraftKBArticleFromTicket(ctx context.Context, s Scope, ticketID int64) (*KBArticle, error)
}
