package api

import (
	"net/http"
	"strconv"
	"strings"
	"unicode"

	"github.com/schulit/cmdb/server/cmdb"
)

// CIInput is the body of POST /cis and PATCH /cis/{id}. Omitted or empty
// fields leave values as they are; Clear unsets attributes.
type CIInput struct {
	AuthorityID  int64             `json:"authority_id"`
	SchoolID     int64             `json:"school_id"`
	RoomID       int64             `json:"room_id"`
	Class        string            `json:"class"`
	Status       string            `json:"status"`
	Name         string            `json:"name"`
	Vendor       string            `json:"vendor"`
	Model        string            `json:"model"`
	Serial       string            `json:"serial"`
	AssetTag     string            `json:"asset_tag"`
	Hostname     string            `json:"hostname"`
	HardwareUUID string            `json:"hardware_uuid"`
	OSName       string            `json:"os_name"`
	OSVersion    string            `json:"os_version"`
	PurchaseDate string            `json:"purchase_date"`
	WarrantyEnd  string            `json:"warranty_end"`
	Owner        string            `json:"owner"`
	MACs         []string          `json:"macs"`
	Attributes   map[string]string `json:"attributes"`
	Clear        []string          `json:"clear"`
}

// observation turns a hand edit into an Observation from user:<caller>.
func (in *CIInput) observation(sc cmdb.Scope) cmdb.Observation {
	o := cmdb.Observation{Source: sc.Source(), AuthorityID: in.AuthorityID, SchoolID: in.SchoolID, RoomID: in.RoomID,
		Class: in.Class, Status: in.Status, Serial: in.Serial, Vendor: in.Vendor, HardwareUUID: in.HardwareUUID,
		Hostname: in.Hostname, AssetTag: in.AssetTag, Clear: in.Clear, Attributes: map[string]string{}}
	for k, v := range in.Attributes {
		o.Attributes[k] = v
	}
	for k, v := range map[string]string{cmdb.AttrName: in.Name, cmdb.AttrModel: in.Model, cmdb.AttrOSName: in.OSName,
		cmdb.AttrOSVersion: in.OSVersion, cmdb.AttrPurchaseDate: in.PurchaseDate, cmdb.AttrWarrantyEnd: in.WarrantyEnd,
		cmdb.AttrOwner: in.Owner} {
		if v != "" {
			o.Attributes[k] = v
		}
	}
	for _, m := range in.MACs {
		o.NICs = append(o.NICs, cmdb.NIC{MAC: m})
	}
	return o
}

// topLevel are the attributes CIInput has fields for.
var topLevel = map[string]bool{cmdb.AttrName: true, cmdb.AttrModel: true, cmdb.AttrOSName: true, cmdb.AttrOSVersion: true,
	cmdb.AttrPurchaseDate: true, cmdb.AttrWarrantyEnd: true, cmdb.AttrOwner: true}

// handEditError turns the field names of a one-observation reconcile into
// the field names of CIInput.
func handEditError(err error) error {
	e, ok := err.(*cmdb.Error)
	if !ok {
		return err
	}
	c := *e
	c.Field = strings.TrimPrefix(c.Field, "observations[0].")
	if c.Field == "ci_id" && c.Code == cmdb.ENOTFOUND {
		c.Field = "" // the id is the path's
	}
	if strings.HasPrefix(c.Field, "nics[") {
		c.Field = "macs" + strings.TrimSuffix(strings.TrimPrefix(c.Field, "nics"), ".mac")
	} else if c.Field == "nics" {
		c.Field = "macs"
	} else if a, ok := strings.CutPrefix(c.Field, "attributes."); ok && topLevel[a] {
		c.Field = a
	}
	return &c
}

func (s *Server) listCIs(w http.ResponseWriter, r *http.Request, sc cmdb.Scope) error {
	var f cmdb.CIFilter
	var err error
	q := r.URL.Query()
	f.Class, f.Status, f.Query = q.Get("class"), q.Get("status"), q.Get("q")
	f.Vendor, f.Model = q.Get("vendor"), q.Get("model")
	ints := []struct {
		name string
		dst  *int64
	}{{"authority", &f.AuthorityID}, {"school", &f.SchoolID}, {"room", &f.RoomID}}
	for _, p := range ints {
		if *p.dst, err = queryInt(r, p.name); err != nil {
			return err
		}
	}
	limit, err := queryInt(r, "limit")
	if err != nil {
		return err
	}
	offset, err := queryInt(r, "offset")
	if err != nil {
		return err
	}
	f.Limit, f.Offset = int(limit), int(offset)
	if f.Limit == 0 {
		f.Limit = 50
	}
	cis, total, err := s.opts.CIs.FindCIs(r.Context(), sc, f)
	if err != nil {
		return err
	}
	writeJSON(w, 200, list[*cmdb.CI]{Items: cis, Total: total, Limit: f.Limit, Offset: f.Offset})
	return nil
}

func (s *Server) createCI(w http.ResponseWriter, r *http.Request, sc cmdb.Scope) error {
	var in CIInput
	if err := decode(w, r, maxBody, &in); err != nil {
		return err
	} else if in.Class == "" {
		return cmdb.Invalid("class", "is required")
	} else if len(in.Clear) > 0 {
		return cmdb.Invalid("clear", "is only allowed when updating a CI")
	}
	o := in.observation(sc)
	o.MustCreate = true
	res, err := s.opts.CIs.Reconcile(r.Context(), sc, []cmdb.Observation{o})
	if err != nil {
		return handEditError(err)
	}
	ci, err := s.opts.CIs.FindCIByID(r.Context(), sc, res.Items[0].CIID)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/cis/"+strconv.FormatInt(ci.ID, 10))
	writeJSON(w, http.StatusCreated, ci)
	return nil
}

func (s *Server) getCI(w http.ResponseWriter, r *http.Request, sc cmdb.Scope) error {
	id, err := ciRef(r, "id")
	if err != nil {
		return err
	}
	ci, err := s.opts.CIs.FindCIByID(r.Context(), sc, id)
	if err != nil {
		return err
	}
	if ci.MergedInto != 0 {
		// The CI lives on in the one it was merged into: say so in JSON
		// (http.Redirect would write an HTML body).
		loc := "/api/v1/cis/" + strconv.FormatInt(ci.MergedInto, 10)
		w.Header().Set("Location", loc)
		writeJSON(w, http.StatusMovedPermanently, MergedCI{ID: ci.ID, MergedInto: ci.MergedInto, Location: loc})
		return nil
	}
	writeJSON(w, 200, ci)
	return nil
}

func (s *Server) updateCI(w http.ResponseWriter, r *http.Request, sc cmdb.Scope) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var in CIInput
	if err := decode(w, r, maxBody, &in); err != nil {
		return err
	}
	o := in.observation(sc)
	o.CIID = id
	if _, err := s.opts.CIs.Reconcile(r.Context(), sc, []cmdb.Observation{o}); err != nil {
		return handEditError(err)
	}
	ci, err := s.opts.CIs.FindCIByID(r.Context(), sc, id)
	if err != nil {
		return err
	}
	writeJSON(w, 200, ci)
	return nil
}

// MergedCI is the answer for a CI that was merged into another.
type MergedCI struct {
	ID         int64  `json:"id"`
	MergedInto int64  `json:"merged_into"`
	Location   string `json:"location"`
}

// AttrProvenance is one attribute's value with the source that set it.
type AttrProvenance struct {
	Value string `json:"value"`
	cmdb.Provenance
	Locked bool `json:"locked"`
}

func (s *Server) getProvenance(w http.ResponseWriter, r *http.Request, sc cmdb.Scope) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	ci, err := s.opts.CIs.FindCIByID(r.Context(), sc, id)
	if err != nil {
		return err
	}
	locks, err := s.opts.CIs.FindLocks(r.Context(), sc, id)
	if err != nil {
		return err
	}
	locked := map[string]bool{}
	for _, l := range locks {
		locked[l.Attr] = true
	}
	out := map[string]AttrProvenance{}
	for attr, p := range ci.Provenance {
		out[attr] = AttrProvenance{Value: ci.Get(attr), Provenance: p, Locked: locked[attr]}
	}
	writeJSON(w, 200, map[string]any{"ci_id": id, "attributes": out})
	return nil
}

func (s *Server) listLocks(w http.ResponseWriter, r *http.Request, sc cmdb.Scope) error {
	out, err := s.opts.CIs.FindLocks(r.Context(), sc, 0)
	if err != nil {
		return err
	}
	writeJSON(w, 200, list[*cmdb.Lock]{Items: out, Total: len(out)})
	return nil
}

func (s *Server) releaseLock(w http.ResponseWriter, r *http.Request, sc cmdb.Scope) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := s.opts.CIs.ReleaseLock(r.Context(), sc, id, r.PathValue("attr")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) listHistory(w http.ResponseWriter, r *http.Request, sc cmdb.Scope) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	limit, err := queryInt(r, "limit")
	if err != nil {
		return err
	}
	out, err := s.opts.CIs.FindHistory(r.Context(), sc, id, int(limit))
	if err != nil {
		return err
	}
	writeJSON(w, 200, list[*cmdb.HistoryEntry]{Items: out, Total: len(out)})
	return nil
}

func (s *Server) createRelation(w http.ResponseWriter, r *http.Request, sc cmdb.Scope) error {
	var in struct {
		FromID int64  `json:"from_ci_id"`
		ToID   int64  `json:"to_ci_id"`
		Kind   string `json:"kind"`
	}
	if err := decode(w, r, maxBody, &in); err != nil {
		return err
	} else if in.FromID <= 0 {
		return cmdb.Invalid("from_ci_id", "is required")
	} else if in.ToID <= 0 {
		return cmdb.Invalid("to_ci_id", "is required")
	}
	rel := &cmdb.Relation{FromID: in.FromID, ToID: in.ToID, Kind: in.Kind}
	if err := s.opts.CIs.CreateRelation(r.Context(), sc, rel); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, rel)
	return nil
}

func (s *Server) mergeCI(w http.ResponseWriter, r *http.Request, sc cmdb.Scope) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var in struct {
		Other int64 `json:"other"`
	}
	if err := decode(w, r, maxBody, &in); err != nil {
		return err
	} else if in.Other <= 0 {
		return cmdb.Invalid("other", "is required: the id of the CI to merge into this one")
	}
	ci, err := s.opts.CIs.MergeCIs(r.Context(), sc, id, in.Other)
	if err != nil {
		return err
	}
	writeJSON(w, 200, ci)
	return nil
}

func (s *Server) listDuplicates(w http.ResponseWriter, r *http.Request, sc cmdb.Scope) error {
	f := cmdb.DuplicateFilter{Status: r.URL.Query().Get("status")}
	ci, err := queryInt(r, "ci")
	if err != nil {
		return err
	}
	limit, err := queryInt(r, "limit")
	if err != nil {
		return err
	}
	offset, err := queryInt(r, "offset")
	if err != nil {
		return err
	}
	auth, err := queryInt(r, "authority")
	if err != nil {
		return err
	}
	f.CIID, f.AuthorityID, f.Limit, f.Offset = ci, auth, int(limit), int(offset)
	if f.Limit == 0 {
		f.Limit = 50
	} else if f.Limit > 1000 {
		return cmdb.Invalid("limit", "must be between 1 and 1000")
	}
	out, total, err := s.opts.CIs.FindDuplicates(r.Context(), sc, f)
	if err != nil {
		return err
	}
	writeJSON(w, 200, list[*cmdb.DuplicateCandidate]{Items: out, Total: total, Limit: f.Limit, Offset: f.Offset})
	return nil
}

func (s *Server) mergeDuplicate(w http.ResponseWriter, r *http.Request, sc cmdb.Scope) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var in struct {
		Keep int64 `json:"keep"`
	}
	if err := decode(w, r, maxBody, &in); err != nil {
		return err
	} else if in.Keep <= 0 {
		return cmdb.Invalid("keep", "is required: the id of the CI that stays")
	}
	ci, err := s.opts.CIs.MergeDuplicate(r.Context(), sc, id, in.Keep)
	if err != nil {
		return err
	}
	writeJSON(w, 200, ci)
	return nil
}

func (s *Server) postObservations(w http.ResponseWriter, r *http.Request, sc cmdb.Scope) error {
	var in struct {
		Observations []cmdb.Observation `json:"observations"`
	}
	if err := decode(w, r, maxObservationsBody, &in); err != nil {
		return err
	} else if len(in.Observations) == 0 {
		return cmdb.Invalid("observations", "must hold at least one observation")
	}
	for i, o := range in.Observations {
		p := "observations[" + strconv.Itoa(i) + "]."
		if cmdb.SourceKind(o.Source) == cmdb.SourceUser {
			return cmdb.Invalid(p+"source", "hand edits go through PATCH /api/v1/cis/{id}")
		} else if o.CIID != 0 {
			return cmdb.Invalid(p+"ci_id", "sources are identified by their identifiers; hand edits go through PATCH /api/v1/cis/{id}")
		}
	}
	res, err := s.opts.CIs.Reconcile(r.Context(), sc, in.Observations)
	if err != nil {
		return err
	}
	writeJSON(w, 200, res)
	return nil
}

// ciRef parses a path parameter naming a CI by its numeric id or by its
// short code (which always holds a letter), as a scanned label gives it.
func ciRef(r *http.Request, name string) (int64, error) {
	if v := r.PathValue(name); strings.ContainsFunc(v, unicode.IsLetter) {
		return cmdb.ParseShortCode(name, v)
	}
	return pathID(r, name)
}
