package web

import (
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/schulit/cmdb/server/cmdb"
)

// reportSchoolView is the first report step: the school (a choice when
// the caller has several) and its rooms by building, filtered by a
// plain GET search.
type reportSchoolView struct {
	Schools   []*cmdb.School
	School    *cmdb.School
	Query     string
	Buildings []buildingRooms
	Matches   int
	// Recent are the rooms of the caller's own reports in the school, the
	// latest first (shown above the buildings when nothing is searched).
	Recent []*cmdb.Room
	// Devices are the school's devices matching the search by name,
	// asset tag, serial or short code: a teacher who knows the device
	// need not know its room.
	Devices []deviceLine
}

type buildingRooms struct {
	Name  string
	Rooms []*cmdb.Room
}

func (s *server) reportSchool(w http.ResponseWriter, r *http.Request, rq *request) error {
	ctx := r.Context()
	all, err := s.opts.Tenants.FindSchools(ctx, rq.Scope, cmdb.TenantFilter{})
	if err != nil {
		return err
	}
	var schools []*cmdb.School
	for _, sc := range all {
		if rq.Scope.CanSee(sc.AuthorityID, sc.ID) { // not the places a provider reads for its tickets
			schools = append(schools, sc)
		}
	}
	v := reportSchoolView{Schools: schools, Query: strings.TrimSpace(r.URL.Query().Get("q"))}
	if id, _ := strconv.ParseInt(r.URL.Query().Get("schule"), 10, 64); id > 0 {
		for _, sc := range schools {
			if sc.ID == id {
				v.School = sc
			}
		}
		if v.School == nil { // another school's id, or none: as if it did not exist
			return cmdb.Errorf(cmdb.ENOTFOUND, "school %d", id)
		}
	} else if len(schools) == 1 {
		v.School = schools[0]
	}
	if v.School != nil {
		if v.Buildings, v.Matches, err = s.schoolRooms(r, rq, v.School, v.Query); err != nil {
			return err
		}
		if v.Devices, err = s.schoolDevices(r, rq, v.School, v.Query); err != nil {
			return err
		}
		if v.Query == "" {
			if v.Recent, err = s.recentRooms(r, rq, v.School, v.Buildings); err != nil {
				return err
			}
		}
	}
	s.render(w, r, rq, http.StatusOK, "report", "report.title", v)
	return nil
}

// schoolRooms lists a school's rooms by building, those matching query
// (name or code; "" for all), and how many match. The portal's report
// flow and the console's phone intake pick rooms with it.
func (s *server) schoolRooms(r *http.Request, rq *request, school *cmdb.School, query string) ([]buildingRooms, int, error) {
	ctx := r.Context()
	buildings, err := s.opts.Tenants.FindBuildings(ctx, rq.Scope, cmdb.TenantFilter{SchoolID: school.ID})
	if err != nil {
		return nil, 0, err
	}
	rooms, err := s.opts.Tenants.FindRooms(ctx, rq.Scope, cmdb.TenantFilter{SchoolID: school.ID})
	if err != nil {
		return nil, 0, err
	}
	q := strings.ToLower(query)
	matches := 0
	byBuilding := map[int64][]*cmdb.Room{}
	for _, room := range rooms {
		if q == "" || strings.Contains(strings.ToLower(room.Name+" "+room.Code), q) {
			byBuilding[room.BuildingID] = append(byBuilding[room.BuildingID], room)
			matches++
		}
	}
	sort.Slice(buildings, func(i, j int) bool { return buildings[i].Name < buildings[j].Name })
	var out []buildingRooms
	for _, b := range buildings {
		if rs := byBuilding[b.ID]; len(rs) > 0 {
			sort.Slice(rs, func(i, j int) bool { return rs[i].Name < rs[j].Name })
			out = append(out, buildingRooms{Name: b.Name, Rooms: rs})
		}
	}
	return out, matches, nil
}

// maxRecentRooms is how many of her rooms a teacher sees first.
const maxRecentRooms = 5

// recentRooms are the rooms of the caller's own reports in school, the
// latest first, among the rooms listed.
func (s *server) recentRooms(r *http.Request, rq *request, school *cmdb.School, listed []buildingRooms) ([]*cmdb.Room, error) {
	ids, err := s.opts.Tickets.FindRecentRooms(r.Context(), rq.Scope, school.ID, maxRecentRooms)
	if err != nil || len(ids) == 0 {
		return nil, err
	}
	byID := map[int64]*cmdb.Room{}
	for _, b := range listed {
		for _, room := range b.Rooms {
			byID[room.ID] = room
		}
	}
	var out []*cmdb.Room
	for _, id := range ids {
		if room := byID[id]; room != nil {
			out = append(out, room)
		}
	}
	return out, nil
}

// reportRoomView shows the devices of a room as cards.
type reportRoomView struct {
	Room    *cmdb.Room
	Devices []deviceLine
}

// reportRoomByID is a room a ticket may be reported in: one of the
// caller's schools. A provider's staff read the rooms of their tickets
// (to know where to go) but report nothing there: not found.
func (s *server) reportRoomByID(r *http.Request, rq *request, id int64) (*cmdb.Room, error) {
	room, err := s.opts.Tenants.FindRoomByID(r.Context(), rq.Scope, id)
	if err != nil {
		return nil, err
	} else if !rq.Scope.CanSee(room.AuthorityID, room.SchoolID) {
		return nil, cmdb.Errorf(cmdb.ENOTFOUND, "room %d", id)
	}
	return room, nil
}

func (s *server) reportRoom(w http.ResponseWriter, r *http.Request, rq *request) error {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return cmdb.Errorf(cmdb.ENOTFOUND, "room %q", r.PathValue("id"))
	}
	room, err := s.reportRoomByID(r, rq, id)
	if err != nil {
		return err
	}
	cis, _, err := s.opts.CIs.FindCIs(r.Context(), rq.Scope, cmdb.CIFilter{RoomID: room.ID, Limit: 200})
	if err != nil {
		return err
	}
	v := reportRoomView{Room: room}
	for _, ci := range cis {
		if reportable(ci) {
			v.Devices = append(v.Devices, deviceLine{ID: ci.ID, Name: ciName(ci), Class: ci.Class, AssetTag: ci.AssetTag, Code: cmdb.ShortCode(ci.ID)})
		}
	}
	s.render(w, r, rq, http.StatusOK, "room", "room.title", v)
	return nil
}

// requestList lists the services of the catalogue a teacher can ask for.
func (s *server) requestList(w http.ResponseWriter, r *http.Request, rq *request) error {
	var services []*cmdb.Service
	if s.opts.Catalogue != nil {
		var err error
		if services, err = s.opts.Catalogue.FindServices(r.Context(), rq.Scope, cmdb.ServiceFilter{}); err != nil {
			return err
		}
	}
	s.render(w, r, rq, http.StatusOK, "request", "request.title", services)
	return nil
}

// maxDeviceMatches bounds the devices a search lists; a teacher refines
// the search rather than scrolling.
const maxDeviceMatches = 20

// schoolDevices finds the school's devices for a search: by its short
// code first (the label's large type), then by name, asset tag, serial
// and the other fields the store searches. The store keeps the caller's
// scope; another school's code finds nothing here.
func (s *server) schoolDevices(r *http.Request, rq *request, school *cmdb.School, query string) ([]deviceLine, error) {
	if query == "" {
		return nil, nil
	}
	ctx := r.Context()
	var out []deviceLine
	seen := map[int64]bool{}
	add := func(ci *cmdb.CI) {
		if ci.SchoolID == school.ID && reportable(ci) && !seen[ci.ID] && len(out) < maxDeviceMatches {
			seen[ci.ID] = true
			out = append(out, deviceLine{ID: ci.ID, Name: ciName(ci), Class: ci.Class, AssetTag: ci.AssetTag, Code: cmdb.ShortCode(ci.ID)})
		}
	}
	if id, err := cmdb.ParseShortCode("q", query); err == nil {
		ci, err := s.opts.CIs.FindCIByID(ctx, rq.Scope, id)
		if err == nil && ci.MergedInto != 0 {
			// A duplicate's label names the device it was merged into.
			ci, err = s.opts.CIs.FindCIByID(ctx, rq.Scope, ci.MergedInto)
		}
		if err == nil {
			add(ci)
		} else if cmdb.ErrorCode(err) != cmdb.ENOTFOUND {
			return nil, err
		}
	}
	cis, _, err := s.opts.CIs.FindCIs(ctx, rq.Scope, cmdb.CIFilter{SchoolID: school.ID, Query: query, Limit: maxDeviceMatches})
	if err != nil {
		if cmdb.ErrorCode(err) == cmdb.EINVALID {
			return out, nil // a search the store cannot read finds no device
		}
		return nil, err
	}
	for _, ci := range cis {
		add(ci)
	}
	return out, nil
}
