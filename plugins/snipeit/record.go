package snipeit

import (
	"cmp"
	"encoding/json"
	"fmt"
	"html"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/schulit/cmdb/plugins/connector"
)

// ref is Snipe-IT's {"id": 1, "name": "…"} of a related object.
type ref struct {
	ID   int    `json:"id"`
	Name string `json:"name"`
}

// dateObject is Snipe-IT's {"date": "2024-08-01", "formatted": "…"}.
type dateObject struct {
	Date string `json:"date"`
}

// customField is one entry of an asset's custom_fields, keyed by the
// field's name: {"field": "_snipeit_mac_address_1", "value": "…",
// "field_format": "MAC", "element": "text"}.
type customField struct {
	Field  string `json:"field"`
	Value  text   `json:"value"`
	Format string `json:"field_format"`
}

// asset is the part of Snipe-IT's hardware object the connector reads.
// Nothing about the person it is checked out to is read.
type asset struct {
	ID             int                    `json:"id"`
	Name           string                 `json:"name"`
	AssetTag       string                 `json:"asset_tag"`
	Serial         string                 `json:"serial"`
	Model          *ref                   `json:"model"`
	StatusLabel    *ref                   `json:"status_label"` // "legacy", says Snipe-IT
	Status         json.RawMessage        `json:"status"`       // the same, from v7 on
	Category       *ref                   `json:"category"`
	Manufacturer   *ref                   `json:"manufacturer"`
	Notes          string                 `json:"notes"`
	Location       *ref                   `json:"location"`
	RTDLocation    *ref                   `json:"rtd_location"`
	WarrantyMonths json.RawMessage        `json:"warranty_months"` // "36 months", localised, or null
	PurchaseDate   *dateObject            `json:"purchase_date"`
	CustomFields   map[string]customField `json:"custom_fields"`
	DeletedAt      json.RawMessage        `json:"deleted_at"` // a date object, or null
}

// label is the asset's status label, from status_label or, once that is
// gone, status.
func (a asset) label() *ref {
	if a.StatusLabel != nil {
		return a.StatusLabel
	}
	var r ref
	if json.Unmarshal(a.Status, &r) == nil && r.ID != 0 {
		return &r
	}
	return nil
}

// deleted says Snipe-IT has the asset in its trash (GET by id shows
// those too).
func (a asset) deleted() bool {
	d := strings.TrimSpace(string(a.DeletedAt))
	return d != "" && d != "null"
}

// location is one of Snipe-IT's locations, with its parent.
type location struct {
	ID     int    `json:"id"`
	Name   string `json:"name"`
	Parent *ref   `json:"parent"`
}

// list is Snipe-IT's answer to a list request.
type list[T any] struct {
	Total *int `json:"total"`
	Rows  []T  `json:"rows"`
}

// total is the list's total; a body without one is no list (a proxy's
// page, another API) and must not pass for an empty inventory.
func (l list[T]) total() (int, error) {
	if l.Total == nil {
		return 0, fmt.Errorf("%w: eine Liste ohne »total«", errBadAnswer)
	}
	return *l.Total, nil
}

// text is a value Snipe-IT sends as a string, but in some versions and
// field formats as a number, a list, or a date object; it reads all of
// them as the text a person would see.
type text string

func (t *text) UnmarshalJSON(b []byte) error {
	var s string
	if json.Unmarshal(b, &s) == nil {
		*t = text(s)
		return nil
	}
	var d struct {
		Date      string `json:"date"`
		Formatted string `json:"formatted"`
	}
	if json.Unmarshal(b, &d) == nil && (d.Date != "" || d.Formatted != "") {
		*t = text(cmp.Or(d.Date, d.Formatted))
		return nil
	}
	var many []string
	if json.Unmarshal(b, &many) == nil {
		*t = text(strings.Join(many, ", "))
		return nil
	}
	// null stays empty; a number or true/false as written.
	if v := strings.TrimSpace(string(b)); v != "null" {
		*t = text(strings.Trim(v, `"`))
	}
	return nil
}

// Attribute keys beyond the contract's well-known ones.
const (
	AttrSnipeID = "snipeit_id"
)

// locations knows every location by id, to find a location's parents.
type locations map[int]location

// path is the names from the top location down to id (at most 16
// levels, so that a loop in the data cannot hang the run).
func (ls locations) path(id int, name string) []string {
	var up []string
	seen := map[int]bool{}
	for id != 0 && !seen[id] && len(up) < 16 {
		seen[id] = true
		l, ok := ls[id]
		if !ok {
			break
		}
		up = append(up, clean(l.Name))
		if l.Parent == nil {
			break
		}
		id = l.Parent.ID
	}
	if len(up) == 0 && clean(name) != "" {
		up = []string{clean(name)}
	}
	out := make([]string, len(up))
	for i, n := range up {
		out[len(up)-1-i] = n
	}
	return out
}

// where turns a location path (top first) into the record's location:
// the location itself is the room, its top ancestor the school and the
// one below the top the building, as far as the levels go.
func where(path []string) connector.Location {
	var l connector.Location
	switch n := len(path); {
	case n == 0:
	case n == 1:
		l.Room = path[0]
	case n == 2:
		l.SchoolName, l.Room = path[0], path[1]
	default:
		l.SchoolName, l.Building, l.Room = path[0], path[1], path[n-1]
	}
	return l
}

// record builds the record of an asset. macField is the custom field
// that holds the MAC ("" for every field of format MAC).
func record(a asset, ls locations, macField string) connector.Record {
	r := connector.Record{
		SourceKey: strconv.Itoa(a.ID),
		Origin:    "Snipe-IT-Asset " + strconv.Itoa(a.ID),
		Identifiers: connector.Identifiers{
			Serial:   clean(a.Serial),
			AssetTag: clean(a.AssetTag),
		},
		Attributes: map[string]string{},
	}
	if r.Identifiers.AssetTag != "" {
		r.Origin += " (Inventarnummer " + r.Identifiers.AssetTag + ")"
	}
	if a.Category != nil {
		r.ClassHint = clean(a.Category.Name)
	}
	if l := a.label(); l != nil {
		r.Status = clean(l.Name)
	}
	set(r.Attributes, connector.AttrName, a.Name)
	if a.Model != nil {
		set(r.Attributes, connector.AttrModel, a.Model.Name)
	}
	if a.Manufacturer != nil {
		set(r.Attributes, connector.AttrVendor, a.Manufacturer.Name)
	}
	set(r.Attributes, connector.AttrNotes, a.Notes)
	set(r.Attributes, AttrSnipeID, strconv.Itoa(a.ID))

	// Where it is now (checked out to a room, say), else where it belongs.
	if l := a.Location; l != nil && l.ID != 0 {
		r.Location = where(ls.path(l.ID, l.Name))
	} else if l := a.RTDLocation; l != nil && l.ID != 0 {
		r.Location = where(ls.path(l.ID, l.Name))
	}

	purchase := ""
	if a.PurchaseDate != nil && clean(a.PurchaseDate.Date) != "" {
		d, err := time.Parse(time.DateOnly, clean(a.PurchaseDate.Date))
		if err != nil {
			r.Problems = append(r.Problems, connector.Problem{Field: "purchase_date", Rule: "date",
				Message: fmt.Sprintf("%q ist kein Datum.", a.PurchaseDate.Date)})
		} else {
			purchase = d.Format(time.DateOnly)
			r.Attributes[connector.AttrPurchaseDate] = purchase
			if m, ok := months(a.WarrantyMonths); ok && m > 0 {
				r.Attributes[connector.AttrWarrantyUntil] = d.AddDate(0, m, 0).Format(time.DateOnly)
			}
		}
	}

	// In name order, so that a record with two MAC fields is the same
	// record every run.
	names := make([]string, 0, len(a.CustomFields))
	for name := range a.CustomFields {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, raw := range names {
		f, name := a.CustomFields[raw], clean(raw)
		if isMACField(name, f, macField) {
			r.AddMAC(name, unescape(string(f.Value)))
			continue
		}
		if _, taken := r.Attributes[name]; !taken {
			set(r.Attributes, name, string(f.Value))
		}
	}
	return r
}

// isMACField says whether a custom field holds the MAC: the configured
// one by name, or, with none configured, any field of format MAC.
func isMACField(name string, f customField, macField string) bool {
	if macField != "" {
		return strings.EqualFold(name, macField)
	}
	return strings.EqualFold(f.Format, "MAC")
}

// months reads warranty_months: Snipe-IT sends "36 months" (in the
// server's language, "36 Monate"), some versions a number.
func months(raw json.RawMessage) (int, bool) {
	if len(raw) == 0 || string(raw) == "null" {
		return 0, false
	}
	var n int
	if json.Unmarshal(raw, &n) == nil {
		return n, true
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return 0, false
	}
	f := strings.Fields(unescape(s))
	if len(f) == 0 {
		return 0, false
	}
	n, err := strconv.Atoi(f[0])
	return n, err == nil
}

func set(m map[string]string, k, v string) {
	if v = clean(v); v != "" {
		m[k] = v
	}
}

// unescape undoes Snipe-IT's HTML escaping of every value it sends
// (e() in PHP: &amp; &lt; &gt; &quot; &#039;).
func unescape(v string) string { return html.UnescapeString(v) }

// clean unescapes a value, trims it and folds runs of white space.
func clean(v string) string { return strings.Join(strings.Fields(unescape(v)), " ") }
