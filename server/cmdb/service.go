package cmdb

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Service is one offer of an authority's IT in its service catalogue
// ("Software im Computerraum installieren", "Neues Benutzerkonto"). A
// service request (a ticket of type request) is opened against a service
// and answers the service's form; requests and incidents share one queue.
type Service struct {
	ID          int64  `json:"id"`
	AuthorityID int64  `json:"authority_id"`
	Name        string `json:"name"`
	Description string `json:"description"`
	// Active services are offered; inactive ones stay for the tickets
	// already opened against them.
	Active   bool `json:"active"`
	Position int  `json:"position"` // display order, low first
	// ProviderID is the assignee group of its requests: 0 for the
	// authority's own IT, else a provider with a contract for the authority.
	ProviderID int64 `json:"provider_id,omitempty"`
	// Level is the support level its requests start at (1–3).
	Level int `json:"level"`
	// SLA targets in minutes; nil: none. They are kept here and turned
	// into due times by the SLA rules.
	ResponseMinutes *int `json:"response_minutes"`
	ResolveMinutes  *int `json:"resolve_minutes"`
	// Form is the ordered list of fields a request answers.
	Form      []FormField `json:"form"`
	CreatedAt time.Time   `json:"created_at"`
	UpdatedAt time.Time   `json:"updated_at"`
}

// Form field types.
const (
	FieldText     = "text"
	FieldTextarea = "textarea"
	FieldNumber   = "number"
	FieldDate     = "date"     // dd.mm.yyyy or yyyy-mm-dd, stored as yyyy-mm-dd
	FieldSelect   = "select"   // one of Options
	FieldCheckbox = "checkbox" // true or false; required means it must be ticked
	FieldRoom     = "room"     // a room id
	FieldCI       = "ci"       // a CI id
)

// FieldTypes lists every form field type.
var FieldTypes = []string{FieldText, FieldTextarea, FieldNumber, FieldDate, FieldSelect, FieldCheckbox, FieldRoom, FieldCI}

// Text length limits per field type: the default and the most a form may allow.
var fieldMaxLength = map[string][2]int{FieldText: {200, 2000}, FieldTextarea: {5000, 20000}}

// FormField is one field of a service's form. It is data, not code: the
// portal renders it and ValidateAnswers checks the answers.
type FormField struct {
	Key      string   `json:"key"`      // [a-z0-9_], unique within the form
	Label    string   `json:"label"`    // German
	LabelEn  string   `json:"label_en"` // English, optional
	Type     string   `json:"type"`
	Required bool     `json:"required"`
	Options  []string `json:"options,omitempty"` // select only
	// MaxLength limits text and textarea answers (characters); 0: the
	// type's default (200, 5000).
	MaxLength int `json:"max_length,omitempty"`
}

var fieldKey = regexp.MustCompile(`^[a-z0-9_]{1,40}$`)

// Validate checks one field; the caller prefixes the error's field with
// the field's place in the form.
func (f *FormField) Validate() error {
	if !fieldKey.MatchString(f.Key) {
		return Invalid("key", "must be 1–40 characters of a–z, 0–9 and _, not %q", f.Key)
	}
	if err := checkText("label", f.Label, 200, true); err != nil {
		return err
	}
	if err := checkText("label_en", f.LabelEn, 200, false); err != nil {
		return err
	}
	if !contains(FieldTypes, f.Type) {
		return Invalid("type", "must be one of %s, not %q", strings.Join(FieldTypes, ", "), f.Type)
	}
	if f.Type == FieldSelect {
		if len(f.Options) == 0 || len(f.Options) > 100 {
			return Invalid("options", "a select field needs 1–100 options")
		}
		seen := map[string]bool{}
		for i, o := range f.Options {
			if err := checkText(fmt.Sprintf("options[%d]", i), o, 100, true); err != nil {
				return err
			}
			if seen[o] {
				return Invalid(fmt.Sprintf("options[%d]", i), "names option %q twice", o)
			}
			seen[o] = true
		}
	} else if len(f.Options) > 0 {
		return Invalid("options", "are only for select fields")
	}
	if lim, ok := fieldMaxLength[f.Type]; ok {
		if f.MaxLength < 0 || f.MaxLength > lim[1] {
			return Invalid("max_length", "must be 1–%d for a %s field (0: %d)", lim[1], f.Type, lim[0])
		}
	} else if f.MaxLength != 0 {
		return Invalid("max_length", "is only for text and textarea fields")
	}
	return nil
}

// ValidateForm checks a whole form: at most 50 fields, each valid, keys
// unique. Errors name the field as form[i].<field>.
func ValidateForm(form []FormField) error {
	if len(form) > 50 {
		return Invalid("form", "must have at most 50 fields")
	}
	seen := map[string]bool{}
	for i := range form {
		if err := form[i].Validate(); err != nil {
			return WithFieldPrefix(err, fmt.Sprintf("form[%d]", i))
		}
		if seen[form[i].Key] {
			return Invalid(fmt.Sprintf("form[%d].key", i), "%q is the key of an earlier field", form[i].Key)
		}
		seen[form[i].Key] = true
	}
	return nil
}

// maxSLAMinutes is a year: a target further out is a typing error.
const maxSLAMinutes = 366 * 24 * 60

// Validate checks a service and fills the defaults (level 1, empty form).
func (s *Service) Validate() error {
	if err := checkText("name", s.Name, 100, true); err != nil {
		return err
	}
	s.Name = strings.TrimSpace(s.Name)
	if err := checkText("description", s.Description, 2000, false); err != nil {
		return err
	}
	if s.Position < 0 || s.Position > 10000 {
		return Invalid("position", "must be 0–10000")
	}
	if s.ProviderID < 0 {
		return Invalid("provider_id", "must be a provider id, or 0 for the authority's IT")
	}
	if s.Level == 0 {
		s.Level = 1
	}
	if err := checkLevel("level", s.Level); err != nil {
		return err
	}
	for _, m := range []struct {
		name string
		v    *int
	}{{"response_minutes", s.ResponseMinutes}, {"resolve_minutes", s.ResolveMinutes}} {
		if m.v != nil && (*m.v < 1 || *m.v > maxSLAMinutes) {
			return Invalid(m.name, "must be 1–%d minutes, or null for no target", maxSLAMinutes)
		}
	}
	if s.ResponseMinutes != nil && s.ResolveMinutes != nil && *s.ResolveMinutes < *s.ResponseMinutes {
		return Invalid("resolve_minutes", "must not be shorter than response_minutes")
	}
	if s.Form == nil {
		s.Form = []FormField{}
	}
	return ValidateForm(s.Form)
}

// ValidateAnswers checks the answers of a request against its service's
// form and returns them normalised: text trimmed, numbers as float64,
// dates as yyyy-mm-dd, rooms and CIs as int64 ids (the store checks that
// they exist and are visible). Answers left empty are dropped. Errors are
// EINVALID naming form_answers.<key> and the rule: required, not a field
// of the form, not an option, too long, not a number, not a date.
func ValidateAnswers(form []FormField, answers map[string]any) (map[string]any, error) {
	out := map[string]any{}
	known := map[string]bool{}
	for _, f := range form {
		known[f.Key] = true
	}
	for k := range answers {
		if !known[k] {
			return nil, Invalid("form_answers."+k, "is not a field of the service's form")
		}
	}
	for _, f := range form {
		field := "form_answers." + f.Key
		v, err := normaliseAnswer(f, answers[f.Key])
		if err != nil {
			return nil, WithFieldPrefix(err, field)
		}
		if v == nil || v == false {
			if f.Required {
				if f.Type == FieldCheckbox {
					return nil, Invalid(field, "is required: it must be ticked")
				}
				return nil, Invalid(field, "is required")
			}
			if v == nil {
				continue
			}
		}
		out[f.Key] = v
	}
	return out, nil
}

// normaliseAnswer turns one answer into its stored form; nil for no answer.
func normaliseAnswer(f FormField, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	if s, ok := v.(string); ok && strings.TrimSpace(s) == "" && f.Type != FieldCheckbox {
		return nil, nil
	}
	switch f.Type {
	case FieldText, FieldTextarea:
		s, ok := v.(string)
		if !ok {
			return nil, Invalid("", "must be text")
		}
		max := f.MaxLength
		if max == 0 {
			max = fieldMaxLength[f.Type][0]
		}
		if !utf8.ValidString(s) || strings.ContainsRune(s, 0) {
			return nil, Invalid("", "must be valid UTF-8 text without NUL")
		}
		if utf8.RuneCountInString(s) > max {
			return nil, Invalid("", "is too long: at most %d characters", max)
		}
		return strings.TrimSpace(s), nil
	case FieldNumber:
		n, ok := answerNumber(v)
		if !ok {
			return nil, Invalid("", "is not a number")
		}
		return n, nil
	case FieldDate:
		s, ok := v.(string)
		if !ok {
			return nil, Invalid("", "is not a date: write dd.mm.yyyy or yyyy-mm-dd")
		}
		s = strings.TrimSpace(s)
		for _, layout := range []string{"02.01.2006", "2.1.2006", "2006-01-02"} {
			if d, err := time.Parse(layout, s); err == nil {
				return d.Format("2006-01-02"), nil
			}
		}
		return nil, Invalid("", "is not a date: write dd.mm.yyyy or yyyy-mm-dd, not %q", s)
	case FieldSelect:
		s, ok := v.(string)
		if !ok || !contains(f.Options, strings.TrimSpace(s)) {
			return nil, Invalid("", "is not an option: must be one of %s", strings.Join(f.Options, ", "))
		}
		return strings.TrimSpace(s), nil
	case FieldCheckbox:
		b, ok := v.(bool)
		if !ok {
			return nil, Invalid("", "must be true or false")
		}
		return b, nil
	case FieldRoom, FieldCI:
		n, ok := answerNumber(v)
		if !ok || n < 1 || n != math.Trunc(n) || n > 1<<53 {
			return nil, Invalid("", "must be a %s id", map[string]string{FieldRoom: "room", FieldCI: "CI"}[f.Type])
		}
		return int64(n), nil
	}
	return nil, Invalid("", "has an unknown type %q", f.Type)
}

// answerNumber reads a JSON number, or a number written as text (with a
// German decimal comma too).
func answerNumber(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, !math.IsInf(n, 0) && !math.IsNaN(n)
	case int:
		return float64(n), true
	case int64:
		return float64(n), true
	case json.Number:
		f, err := n.Float64()
		return f, err == nil
	case string:
		f, err := strconv.ParseFloat(strings.Replace(strings.TrimSpace(n), ",", ".", 1), 64)
		return f, err == nil && !math.IsInf(f, 0) && !math.IsNaN(f)
	}
	return 0, false
}

// NullableInt is a field of a change that may be left out (Set false),
// set to null (Value nil) or to a number.
type NullableInt struct {
	Set   bool
	Value *int
}

// UnmarshalJSON implements json.Unmarshaler.
func (n *NullableInt) UnmarshalJSON(b []byte) error {
	n.Set = true
	if string(b) == "null" {
		n.Value = nil
		return nil
	}
	var v int
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	n.Value = &v
	return nil
}

// ServiceUpdate is a change of a service; nil (or unset) fields stay as
// they are. Form replaces the whole form; tickets keep the answers they
// were opened with. ProviderID 0 hands new requests to the authority's IT.
type ServiceUpdate struct {
	Name            *string      `json:"name"`
	Description     *string      `json:"description"`
	Active          *bool        `json:"active"`
	Position        *int         `json:"position"`
	ProviderID      *int64       `json:"provider_id"`
	Level           *int         `json:"level"`
	ResponseMinutes NullableInt  `json:"response_minutes"`
	ResolveMinutes  NullableInt  `json:"resolve_minutes"`
	Form            *[]FormField `json:"form"`
}

// Apply changes s by u; the caller validates the result.
func (u ServiceUpdate) Apply(s *Service) {
	if u.Name != nil {
		s.Name = *u.Name
	}
	if u.Description != nil {
		s.Description = *u.Description
	}
	if u.Active != nil {
		s.Active = *u.Active
	}
	if u.Position != nil {
		s.Position = *u.Position
	}
	if u.ProviderID != nil {
		s.ProviderID = *u.ProviderID
	}
	if u.Level != nil {
		s.Level = *u.Level
		if s.Level == 0 {
			s.Level = -1 // 0 is no default here: refuse it
		}
	}
	if u.ResponseMinutes.Set {
		s.ResponseMinutes = u.ResponseMinutes.Value
	}
	if u.ResolveMinutes.Set {
		s.ResolveMinutes = u.ResolveMinutes.Value
	}
	if u.Form != nil {
		s.Form = *u.Form
	}
}

// ServiceFilter selects services; zero fields do not filter.
type ServiceFilter struct {
	AuthorityID int64
	// Inactive includes inactive services (for authority IT; others never
	// see them).
	Inactive bool
}

// TicketCategoryInput is a new category of an authority, or a change of
// one (nil fields stay; for a platform default only Active may change,
// which hides or shows it for the authority).
type TicketCategoryInput struct {
	AuthorityID int64   `json:"authority_id"`
	Class       string  `json:"class"`
	Name        *string `json:"name"`
	Position    *int    `json:"position"`
	Active      *bool   `json:"active"`
}

// CatalogueStore keeps the service catalogue and the authorities' own
// ticket categories. Every method filters by the scope; what the caller
// may not see answers ENOTFOUND.
//
// Who sees what: every member of an authority (authority IT, school IT
// and teachers of its schools) lists and reads its active services;
// authority IT (and admins) also the inactive ones, and only they create
// and change services and categories (EFORBIDDEN for members who may
// see but not change). Providers see no services.
type CatalogueStore interface {
	// CreateService adds a service to an authority (AuthorityID 0: the
	// caller's only authority). EINVALID naming the field for bad input,
	// an authority the caller may not use (authority_id) or a provider
	// without a contract (provider_id); ECONFLICT naming "name" for a name
	// the authority already uses.
	CreateService(ctx context.Context, s Scope, svc *Service) error
	// FindServiceByID returns a service; ENOTFOUND outside the scope.
	FindServiceByID(ctx context.Context, s Scope, id int64) (*Service, error)
	// FindServices lists services by position and name.
	FindServices(ctx context.Context, s Scope, f ServiceFilter) ([]*Service, error)
	// UpdateService changes a service (Active false deactivates it).
	// ENOTFOUND outside the scope, EFORBIDDEN for members who are not
	// authority IT, EINVALID/ECONFLICT as CreateService.
	UpdateService(ctx context.Context, s Scope, id int64, u ServiceUpdate) (*Service, error)
	// CreateTicketCategory adds a category of the authority. EINVALID
	// naming the field for bad input or an authority the caller may not
	// change; ECONFLICT naming "name" when the authority already has (or
	// sees as a default) a category of that class and name.
	CreateTicketCategory(ctx context.Context, s Scope, in TicketCategoryInput) (*TicketCategory, error)
	// UpdateTicketCategory changes one of the authority's own categories,
	// or hides (Active false) or shows a platform default for the
	// authority (authority: the caller's only one, else required).
	// ENOTFOUND for another authority's category, EFORBIDDEN for members
	// who are not authority IT.
	UpdateTicketCategory(ctx context.Context, s Scope, id, authority int64, in TicketCategoryInput) (*TicketCategory, error)
}

// DefaultServices is a starting catalogue in German for a new authority
// (the demo creates it through the store). Response and resolve targets
// are in minutes of the clock; the SLA rules decide about working hours.
func DefaultServices() []Service {
	minutes := func(n int) *int { return &n }
	return []Service{
		{Name: "Software im Computerraum installieren", Position: 10, Level: 2, Active: true,
			Description:     "Installation einer Lernsoftware auf allen Rechnern eines Computerraums.",
			ResponseMinutes: minutes(8 * 60), ResolveMinutes: minutes(10 * 24 * 60),
			Form: []FormField{
				{Key: "raum", Label: "Raum", LabelEn: "Room", Type: FieldRoom, Required: true},
				{Key: "software", Label: "Name der Software", LabelEn: "Software name", Type: FieldText, Required: true, MaxLength: 200},
				{Key: "lizenz", Label: "Lizenz vorhanden", LabelEn: "Licence available", Type: FieldCheckbox},
				{Key: "gewuenscht_bis", Label: "Gewünscht bis", LabelEn: "Wanted by", Type: FieldDate},
				{Key: "hinweise", Label: "Hinweise", LabelEn: "Notes", Type: FieldTextarea},
			}},
		{Name: "Neues Benutzerkonto", Position: 20, Level: 1, Active: true,
			Description:     "Ein Konto für eine neue Lehrkraft, Mitarbeiterin oder einen Mitarbeiter.",
			ResponseMinutes: minutes(4 * 60), ResolveMinutes: minutes(3 * 24 * 60),
			Form: []FormField{
				{Key: "vorname", Label: "Vorname", LabelEn: "First name", Type: FieldText, Required: true, MaxLength: 100},
				{Key: "nachname", Label: "Nachname", LabelEn: "Last name", Type: FieldText, Required: true, MaxLength: 100},
				{Key: "rolle", Label: "Rolle", LabelEn: "Role", Type: FieldSelect, Required: true,
					Options: []string{"Lehrkraft", "Verwaltung", "Referendariat", "Schulsozialarbeit"}},
				{Key: "ab", Label: "Benötigt ab", LabelEn: "Needed from", Type: FieldDate, Required: true},
			}},
		{Name: "Leihgerät für Schüler:in", Position: 30, Level: 1, Active: true,
			Description:     "Ausleihe eines Laptops oder Tablets an eine Schülerin oder einen Schüler.",
			ResponseMinutes: minutes(8 * 60), ResolveMinutes: minutes(5 * 24 * 60),
			Form: []FormField{
				{Key: "schueler", Label: "Name der Schülerin / des Schülers", LabelEn: "Pupil's name", Type: FieldText, Required: true, MaxLength: 100},
				{Key: "klasse", Label: "Klasse", LabelEn: "Class", Type: FieldText, Required: true, MaxLength: 20},
				{Key: "geraet", Label: "Gerät", LabelEn: "Device", Type: FieldSelect, Required: true, Options: []string{"Laptop", "Tablet"}},
				{Key: "von", Label: "Ausleihe ab", LabelEn: "Lend from", Type: FieldDate, Required: true},
				{Key: "bis", Label: "Rückgabe bis", LabelEn: "Return by", Type: FieldDate},
				{Key: "einverstaendnis", Label: "Einverständnis der Erziehungsberechtigten liegt vor", LabelEn: "Parents' consent given",
					Type: FieldCheckbox, Required: true},
			}},
		{Name: "Neuer Beamer für einen Raum", Position: 40, Level: 2, Active: true,
			Description:     "Anschaffung und Montage eines Beamers oder Displays in einem Unterrichtsraum.",
			ResponseMinutes: minutes(24 * 60), ResolveMinutes: minutes(30 * 24 * 60),
			Form: []FormField{
				{Key: "raum", Label: "Raum", LabelEn: "Room", Type: FieldRoom, Required: true},
				{Key: "anzahl", Label: "Anzahl", LabelEn: "Quantity", Type: FieldNumber, Required: true},
				{Key: "begruendung", Label: "Begründung", LabelEn: "Reason", Type: FieldTextarea, Required: true, MaxLength: 2000},
			}},
		{Name: "Passwort zurücksetzen", Position: 50, Level: 1, Active: true,
			Description:     "Das Passwort eines Kontos zurücksetzen (nach Prüfung der Identität).",
			ResponseMinutes: minutes(60), ResolveMinutes: minutes(4 * 60),
			Form: []FormField{
				{Key: "konto", Label: "Benutzername oder E-Mail", LabelEn: "User name or e-mail", Type: FieldText, Required: true, MaxLength: 200},
				{Key: "identitaet_geprueft", Label: "Identität geprüft", LabelEn: "Identity checked", Type: FieldCheckbox, Required: true},
			}},
	}
}

// validateService checks the service fields of a new ticket: a service
// only for requests, answers only with a service. The store checks the
// answers against the service's form.
func (t *Ticket) validateService() error {
	switch {
	case t.ServiceID < 0:
		return Invalid("service_id", "must be a service id")
	case t.ServiceID != 0 && t.Type != TicketRequest:
		return Invalid("type", "must be request for a ticket opened against a service (service_id)")
	case t.ServiceID == 0 && len(t.FormAnswers) > 0:
		return Invalid("form_answers", "are only for a request against a service: name its service_id")
	case t.CategoryID < 0:
		return Invalid("category_id", "must be a category id")
	}
	return nil
}
