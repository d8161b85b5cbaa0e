//lint:file-ignore ST1005 the errors are German sentences a person reads in the run log; German nouns are capitalised.

package snipeit

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/schulit/cmdb/plugins/connector"
)

// statusLabel is one of Snipe-IT's status labels.
type statusLabel struct {
	ID   int    `json:"id"`
	Name string `json:"name"`
}

// pusher holds what one Push needs: the client, the status labels and
// locations (read once, when the first change needs them).
type pusher struct {
	c        *Connector
	cl       *client
	s        Settings
	labels   []statusLabel
	places   locations
	loaded   bool
	pathByID map[int][]string
}

// Push implements connector.Connector: each change is matched to one
// existing asset — by its id when the change has the source key, else by
// its serial — and the fields that differ are written with one PATCH.
// Nothing is ever created: an unknown or ambiguous asset, status label
// or location is a failure, as is a change Snipe-IT refuses.
func (c *Connector) Push(ctx context.Context, cfg connector.Config, changes []connector.Change) (connector.PushResult, error) {
	s, token, problems := settings(cfg)
	if problems != nil {
		return connector.PushResult{}, errors.New(problems[0].Message)
	}
	p := &pusher{c: c, cl: c.client(s, token), s: s}
	var res connector.PushResult
	for _, ch := range changes {
		key, err := p.push(ctx, ch)
		if ctx.Err() != nil {
			return res, ctx.Err()
		}
		if err != nil {
			// The transport failing for good ends the push; what was
			// written stays written, each change is whole.
			var fe failure
			if !errors.As(err, &fe) {
				return res, err
			}
			res.Failures = append(res.Failures, connector.PushFailure{SourceKey: key, Message: describe(ch) + ": " + fe.msg})
			continue
		}
		res.Applied++
	}
	c.log.Info("Snipe-IT zurückgeschrieben", "geschrieben", res.Applied, "abgelehnt", len(res.Failures))
	return res, nil
}

// failure is a change the connector or Snipe-IT refuses, as opposed to
// an error that stops the push.
type failure struct{ msg string }

func (f failure) Error() string { return f.msg }

func refused(format string, a ...any) error { return failure{fmt.Sprintf(format, a...)} }

// describe names a change for its failure message.
func describe(ch connector.Change) string {
	var parts []string
	if ch.CIID != "" {
		parts = append(parts, "CI "+ch.CIID)
	}
	if ch.SourceKey != "" {
		parts = append(parts, "Asset "+ch.SourceKey)
	}
	if s := strings.TrimSpace(ch.Identifiers.Serial); s != "" {
		parts = append(parts, "Seriennummer "+s)
	}
	if len(parts) == 0 {
		return "Änderung"
	}
	return strings.Join(parts, ", ")
}

// push writes one change and returns the key of the asset it concerns.
func (p *pusher) push(ctx context.Context, ch connector.Change) (string, error) {
	if len(ch.Fields) > 0 {
		names := make([]string, 0, len(ch.Fields))
		for k := range ch.Fields {
			names = append(names, k)
		}
		sort.Strings(names)
		return ch.SourceKey, refused("Snipe-IT-Connector schreibt nur Status, Standort, Seriennummer und MAC zurück, nicht %s; nichts geändert",
			strings.Join(names, ", "))
	}
	a, byKey, err := p.find(ctx, ch)
	if err != nil {
		return ch.SourceKey, err
	}
	key := strconv.Itoa(a.ID)
	patch := map[string]any{}

	if st := clean(ch.Status); st != "" {
		id, err := p.label(ctx, st)
		if err != nil {
			return key, err
		}
		if l := a.label(); l == nil || l.ID != id {
			patch["status_id"] = id
		}
	}
	if want := wanted(ch.Location); len(want) > 0 {
		id, err := p.location(ctx, want)
		if err != nil {
			return key, err
		}
		// rtd_location_id alone moves location_id along (Snipe-IT's
		// update does so when location_id is not sent).
		if a.RTDLocation == nil || a.RTDLocation.ID != id || a.Location == nil || a.Location.ID != id {
			patch["rtd_location_id"] = id
		}
	}
	// Serials compare without case, as the CMDB matches them: a change of
	// case alone is not written.
	if serial := strings.TrimSpace(ch.Identifiers.Serial); byKey && serial != "" && !strings.EqualFold(serial, clean(a.Serial)) {
		// Never two assets with one serial: a serial already on another
		// asset is refused before anything is written.
		others, err := p.bySerial(ctx, serial)
		if err != nil {
			return key, err
		}
		for _, o := range others {
			if o.ID != a.ID {
				return key, refused("die Seriennummer %s trägt schon Asset %d; nichts geändert", serial, o.ID)
			}
		}
		patch["serial"] = serial
	}
	if len(ch.Identifiers.MACs) > 0 {
		col, current, ok := macColumn(a, p.s.MACField)
		if !ok {
			what := "kein Feld im Format MAC"
			if p.s.MACField != "" {
				what = fmt.Sprintf("kein Feld »%s«", p.s.MACField)
			}
			return key, refused("das Modell dieses Assets hat %s; nichts geändert", what)
		}
		mac, valid := connector.NormalizeMAC(ch.Identifiers.MACs[0])
		if !valid {
			return key, refused("%q ist keine MAC-Adresse; nichts geändert", ch.Identifiers.MACs[0])
		}
		if !containsMAC(ch.Identifiers.MACs, current) {
			patch[col] = mac
		}
	}
	if len(patch) == 0 {
		return key, nil // Snipe-IT says so already
	}
	var ok struct {
		Status string `json:"status"`
	}
	err = p.cl.do(ctx, http.MethodPatch, "/hardware/"+key, nil, patch, &ok)
	switch {
	case errors.Is(err, errRefused), errors.Is(err, errForbidden), errors.Is(err, errNotFound):
		return key, refused("%s", err.Error())
	case err != nil:
		return key, err
	}
	p.c.log.Info("Asset geändert", "asset", a.ID, "felder", len(patch))
	return key, nil
}

// find is the asset a change concerns: by id when the change has the
// source key, else by serial, which must name exactly one asset.
func (p *pusher) find(ctx context.Context, ch connector.Change) (asset, bool, error) {
	if key := strings.TrimSpace(ch.SourceKey); key != "" {
		id, err := strconv.Atoi(key)
		if err != nil || id <= 0 {
			return asset{}, false, refused("%q ist keine Asset-ID von Snipe-IT", key)
		}
		var a asset
		err = p.cl.do(ctx, http.MethodGet, "/hardware/"+strconv.Itoa(id), nil, nil, &a)
		switch {
		case errors.Is(err, errRefused), errors.Is(err, errNotFound):
			return asset{}, false, refused("Asset %d gibt es in Snipe-IT nicht (mehr); der Connector legt keine an", id)
		case err != nil:
			return asset{}, false, err
		case a.ID != id:
			return asset{}, false, refused("Snipe-IT liefert für Asset %d ein anderes Asset (%d)", id, a.ID)
		case a.deleted():
			return asset{}, false, refused("Asset %d ist in Snipe-IT gelöscht; nichts geändert", id)
		}
		return a, true, nil
	}
	serial := strings.TrimSpace(ch.Identifiers.Serial)
	if serial == "" {
		return asset{}, false, refused("weder Asset-ID noch Seriennummer; nichts geändert")
	}
	found, err := p.bySerial(ctx, serial)
	if err != nil {
		return asset{}, false, err
	}
	switch len(found) {
	case 0:
		return asset{}, false, refused("kein Asset mit der Seriennummer %s in Snipe-IT; der Connector legt keine an", serial)
	case 1:
		return found[0], false, nil
	}
	sort.Slice(found, func(i, j int) bool { return found[i].ID < found[j].ID })
	ids := make([]string, len(found))
	for i, a := range found {
		ids[i] = strconv.Itoa(a.ID)
	}
	return asset{}, false, refused("die Seriennummer %s tragen %d Assets (%s); nichts geändert, bitte in Snipe-IT bereinigen",
		serial, len(found), strings.Join(ids, ", "))
}

// bySerial lists the assets with exactly this serial (Snipe-IT answers
// "does not exist" in an error body when there is none).
func (p *pusher) bySerial(ctx context.Context, serial string) ([]asset, error) {
	var l list[asset]
	err := p.cl.do(ctx, http.MethodGet, "/hardware/byserial/"+url.PathEscape(serial), nil, nil, &l)
	switch {
	case errors.Is(err, errRefused), errors.Is(err, errNotFound):
		return nil, nil
	case err != nil:
		return nil, err
	}
	if _, err := l.total(); err != nil {
		return nil, err
	}
	return l.Rows, nil
}

// load reads the status labels and locations once per push.
func (p *pusher) load(ctx context.Context) error {
	if p.loaded {
		return nil
	}
	err := each(ctx, p.cl, "/statuslabels", p.s.pageSize(), byID, func(rows []statusLabel) error {
		p.labels = append(p.labels, rows...)
		return nil
	})
	if err != nil {
		return fmt.Errorf("Statusbezeichnungen: %w", err)
	}
	p.places = locations{}
	err = each(ctx, p.cl, "/locations", p.s.pageSize(), byID, func(rows []location) error {
		for _, l := range rows {
			p.places[l.ID] = l
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("Standorte: %w", err)
	}
	p.pathByID = map[int][]string{}
	for id, l := range p.places {
		p.pathByID[id] = p.places.path(id, l.Name)
	}
	p.loaded = true
	return nil
}

// label is the id of the status label with this name.
func (p *pusher) label(ctx context.Context, name string) (int, error) {
	if err := p.load(ctx); err != nil {
		return 0, err
	}
	for _, l := range p.labels {
		if strings.EqualFold(clean(l.Name), name) {
			return l.ID, nil
		}
	}
	names := make([]string, len(p.labels))
	for i, l := range p.labels {
		names[i] = clean(l.Name)
	}
	return 0, refused("die Statusbezeichnung »%s« gibt es in Snipe-IT nicht (vorhanden: %s); nichts geändert", name, strings.Join(names, ", "))
}

// wanted is the location path a change asks for, top first, without the
// parts it leaves empty.
func wanted(l connector.Location) []string {
	var w []string
	for _, n := range []string{l.SchoolName, l.Building, l.Room} {
		if n = clean(n); n != "" {
			w = append(w, n)
		}
	}
	return w
}

// location is the id of the one location whose name is the last of want
// and whose parents include the others, in order.
func (p *pusher) location(ctx context.Context, want []string) (int, error) {
	if err := p.load(ctx); err != nil {
		return 0, err
	}
	var hits []int
	for id, path := range p.pathByID {
		if matches(path, want) {
			hits = append(hits, id)
		}
	}
	sort.Ints(hits)
	shown := strings.Join(want, " / ")
	switch len(hits) {
	case 1:
		return hits[0], nil
	case 0:
		return 0, refused("den Standort »%s« gibt es in Snipe-IT nicht; der Connector legt keine an, nichts geändert", shown)
	}
	ids := make([]string, len(hits))
	for i, id := range hits {
		ids[i] = strconv.Itoa(id)
	}
	return 0, refused("der Standort »%s« ist in Snipe-IT mehrdeutig (Standorte %s); nichts geändert", shown, strings.Join(ids, ", "))
}

// matches: path ends in want's last name, and want's other names are
// among path's parents in the same order.
func matches(path, want []string) bool {
	if len(path) == 0 || !strings.EqualFold(path[len(path)-1], want[len(want)-1]) {
		return false
	}
	i := 0
	for _, n := range path[:len(path)-1] {
		if i < len(want)-1 && strings.EqualFold(n, want[i]) {
			i++
		}
	}
	return i == len(want)-1
}

// macColumn is the database column of the asset's MAC field and its
// current value (normalised, "" if none).
func macColumn(a asset, macField string) (col, current string, ok bool) {
	names := make([]string, 0, len(a.CustomFields))
	for n := range a.CustomFields {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		f := a.CustomFields[n]
		if isMACField(clean(n), f, macField) && f.Field != "" {
			cur, _ := connector.NormalizeMAC(unescape(string(f.Value)))
			return unescape(f.Field), cur, true
		}
	}
	return "", "", false
}

func containsMAC(macs []string, mac string) bool {
	if mac == "" {
		return false
	}
	for _, m := range macs {
		if n, ok := connector.NormalizeMAC(m); ok && n == mac {
			return true
		}
	}
	return false
}
