// Package demo loads a realistic demo tenant into a store: the school
// authority "Landkreis Musterstadt" with five schools, their buildings and
// rooms, and an inventory of about 600 devices as an inventory export and
// the device agent report them. A few devices were entered twice in the
// export and wait for review as duplicate candidates.
//
// The printers, copiers and projectors in use are SNMP targets of their
// school, with a credential profile per school; SimDevices gives each a
// recording for the SNMP simulator, so that the poller reads them for
// real (cmdbd demo does): their page counters, supplies and health
// events come from polling, and so do two more duplicate candidates —
// devices whose firmware reports no serial and whose MAC the export
// recorded on two records.
//
// The data is generated with a fixed seed, so every load sends the same
// observations; loading again finds the tenant objects by code, the
// devices by their source keys and the credential profiles by name and
// targets by address, and creates nothing new.
package demo

import (
	"context"
	"fmt"
	"strconv"

	"github.com/schulit/cmdb/server/cmdb"
)

// Code and name of the demo authority.
const (
	AuthorityCode = "LK-DEMO"
	AuthorityName = "Landkreis Musterstadt"
)

// BatchSize is the number of observations Load reconciles per call.
const BatchSize = 500

// Store is what the loader needs; *postgres.DB implements it.
type Store interface {
	cmdb.TenantStore
	cmdb.CIStore
	cmdb.SNMPStore
	cmdb.AccountStore
	cmdb.TicketStore
	cmdb.CatalogueStore
	cmdb.KBStore
	cmdb.SLAStore
	// RecomputeRepeatFailures applies the repeat-failure rule to every CI
	// of an authority at the store's clock.
	RecomputeRepeatFailures(ctx context.Context, authority int64) (set, cleared int, err error)
}

// Summary says what Load did.
type Summary struct {
	// Authority is the id of the demo authority.
	Authority int64
	// Schools, Buildings and Rooms count the demo tenant objects, found
	// or created.
	Schools, Buildings, Rooms int
	// Observations is the number of observations reconciled; Created,
	// Updated and Unchanged count their outcomes.
	Observations, Created, Updated, Unchanged int
	// Duplicates is the number of duplicate candidates reconcile reported
	// in this load (a repeated load reports none for pairs already known).
	Duplicates int
	// Targets counts the SNMP targets of the simulated devices, found or
	// created.
	Targets int
	// Providers, People, Services, Articles and Tickets count the demo's
	// providers, people, catalogue services, knowledge-base articles and
	// tickets, found or created; the …Created fields those this load
	// created (a repeated load creates none).
	Providers, People, Services, Articles, Tickets int
	PeopleCreated, ArticlesCreated, TicketsCreated int
	// TicketsSkipped counts the demo tickets a repeated load could not
	// make again because their devices changed since the first load.
	TicketsSkipped int
}

// Load creates (or finds, by code) the demo authority LK-DEMO and its
// tenant tree, then feeds the demo inventory through s.Reconcile with the
// scope, BatchSize observations at a time, and adds each school's SNMP
// credential profile and a target per simulated device (SimDevices).
// Creating the authority needs an admin scope, such as
// cmdb.AdminScope("demo"). Loading twice creates nothing new.
func Load(ctx context.Context, s Store, scope cmdb.Scope, opts Options) (*Summary, error) {
	p := buildPlan()
	ids, sum, err := ensureTenants(ctx, s, scope, p.Schools)
	if err != nil {
		return nil, err
	}
	obs := make([]cmdb.Observation, len(p.Obs))
	for i, po := range p.Obs {
		o := po.Obs
		o.AuthorityID = ids.authority
		if o.SchoolID, err = ids.school(po.School); err != nil {
			return nil, err
		}
		if po.Room != "" {
			if o.RoomID, err = ids.room(po.loc); err != nil {
				return nil, err
			}
		}
		obs[i] = o
	}
	sum.Observations = len(obs)
	for off := 0; off < len(obs); off += BatchSize {
		end := min(off+BatchSize, len(obs))
		res, err := s.Reconcile(ctx, scope, obs[off:end])
		if err != nil {
			return nil, fmt.Errorf("demo: reconcile observations %d–%d: %w", off, end-1, err)
		}
		for _, it := range res.Items {
			switch it.Outcome {
			case cmdb.OutcomeCreated:
				sum.Created++
			case cmdb.OutcomeUpdated:
				sum.Updated++
			case cmdb.OutcomeUnchanged:
				sum.Unchanged++
			}
			sum.Duplicates += len(it.Duplicates)
		}
	}
	if err := ensureSNMP(ctx, s, scope, ids, sum); err != nil {
		return nil, err
	}
	c, err := ensurePeople(ctx, s, scope, ids, sum, opts)
	if err != nil {
		return nil, err
	}
	svcs, err := ensureServices(ctx, s, scope, c, sum)
	if err != nil {
		return nil, err
	}
	cats, err := categories(ctx, s, scope, ids.authority)
	if err != nil {
		return nil, err
	}
	if err := ensureArticles(ctx, s, scope, ids.authority, cats, sum); err != nil {
		return nil, err
	}
	if err := ensureTickets(ctx, s, scope, ids, c, svcs, p, opts, sum); err != nil {
		return nil, err
	}
	return sum, nil
}

// tenantIDs maps the demo's tenant codes to store ids.
type tenantIDs struct {
	authority int64
	schools   map[string]int64 // school code
	rooms     map[loc]int64
}

func (t *tenantIDs) school(code string) (int64, error) {
	if id, ok := t.schools[code]; ok {
		return id, nil
	}
	return 0, fmt.Errorf("demo: unknown school %q", code)
}

func (t *tenantIDs) room(l loc) (int64, error) {
	if id, ok := t.rooms[l]; ok {
		return id, nil
	}
	return 0, fmt.Errorf("demo: unknown room %s/%s/%s", l.School, l.Building, l.Room)
}

func key(id int64, code string) string { return strconv.FormatInt(id, 10) + "|" + code }

// ensureTenants finds the demo authority, schools, buildings and rooms by
// code and creates those that are missing. A create that loses a race to a
// concurrent load (ECONFLICT) looks the object up again.
func ensureTenants(ctx context.Context, s Store, scope cmdb.Scope, defs []*schoolDef) (*tenantIDs, *Summary, error) {
	ids := &tenantIDs{schools: map[string]int64{}, rooms: map[loc]int64{}}
	sum := &Summary{}

	findAuth := func() (int64, error) {
		as, err := s.FindAuthorities(ctx, scope)
		for _, a := range as {
			if a.Code == AuthorityCode {
				return a.ID, nil
			}
		}
		return 0, err
	}
	id, err := findAuth()
	if err != nil {
		return nil, nil, fmt.Errorf("demo: find authority: %w", err)
	}
	if id == 0 {
		a := &cmdb.Authority{Code: AuthorityCode, Name: AuthorityName}
		err := s.CreateAuthority(ctx, scope, a)
		if id, err = create(err, a.ID, findAuth); err != nil {
			return nil, nil, fmt.Errorf("demo: create authority: %w", err)
		}
	}
	ids.authority, sum.Authority = id, id
	f := cmdb.TenantFilter{AuthorityID: id}

	// Schools.
	findSchools := func() (map[string]int64, error) {
		list, err := s.FindSchools(ctx, scope, f)
		m := map[string]int64{}
		for _, v := range list {
			m[v.Code] = v.ID
		}
		return m, err
	}
	have, err := findSchools()
	if err != nil {
		return nil, nil, fmt.Errorf("demo: find schools: %w", err)
	}
	for _, sd := range defs {
		if _, ok := have[sd.Code]; !ok {
			v := &cmdb.School{AuthorityID: id, Code: sd.Code, Name: sd.Name}
			err := s.CreateSchool(ctx, scope, v)
			if have[sd.Code], err = create(err, v.ID, func() (int64, error) {
				m, err := findSchools()
				return m[sd.Code], err
			}); err != nil {
				return nil, nil, fmt.Errorf("demo: school %s: %w", sd.Code, err)
			}
		}
		ids.schools[sd.Code] = have[sd.Code]
		sum.Schools++
	}

	// Buildings, keyed by school id and code.
	findBuildings := func() (map[string]int64, error) {
		list, err := s.FindBuildings(ctx, scope, f)
		m := map[string]int64{}
		for _, v := range list {
			m[key(v.SchoolID, v.Code)] = v.ID
		}
		return m, err
	}
	buildings, err := findBuildings()
	if err != nil {
		return nil, nil, fmt.Errorf("demo: find buildings: %w", err)
	}
	// Rooms, keyed by building id and code.
	findRooms := func() (map[string]int64, error) {
		list, err := s.FindRooms(ctx, scope, f)
		m := map[string]int64{}
		for _, v := range list {
			m[key(v.BuildingID, v.Code)] = v.ID
		}
		return m, err
	}
	rooms, err := findRooms()
	if err != nil {
		return nil, nil, fmt.Errorf("demo: find rooms: %w", err)
	}
	for _, sd := range defs {
		schoolID := ids.schools[sd.Code]
		for _, bd := range sd.Buildings {
			bk := key(schoolID, bd.Code)
			if _, ok := buildings[bk]; !ok {
				v := &cmdb.Building{SchoolID: schoolID, Code: bd.Code, Name: bd.Name}
				err := s.CreateBuilding(ctx, scope, v)
				if buildings[bk], err = create(err, v.ID, func() (int64, error) {
					m, err := findBuildings()
					return m[bk], err
				}); err != nil {
					return nil, nil, fmt.Errorf("demo: building %s/%s: %w", sd.Code, bd.Code, err)
				}
			}
			sum.Buildings++
			for _, rd := range bd.Rooms {
				rk := key(buildings[bk], rd.Code)
				if _, ok := rooms[rk]; !ok {
					v := &cmdb.Room{BuildingID: buildings[bk], Code: rd.Code, Name: rd.Name}
					err := s.CreateRoom(ctx, scope, v)
					if rooms[rk], err = create(err, v.ID, func() (int64, error) {
						m, err := findRooms()
						return m[rk], err
					}); err != nil {
						return nil, nil, fmt.Errorf("demo: room %s/%s/%s: %w", sd.Code, bd.Code, rd.Code, err)
					}
				}
				ids.rooms[loc{sd.Code, bd.Code, rd.Code}] = rooms[rk]
				sum.Rooms++
			}
		}
	}
	return ids, sum, nil
}

// create returns the id of a created object, or after a conflict the id
// refind finds.
func create(err error, id int64, refind func() (int64, error)) (int64, error) {
	if cmdb.ErrorCode(err) != cmdb.ECONFLICT {
		return id, err
	}
	id, err = refind()
	if err == nil && id == 0 {
		err = fmt.Errorf("exists but is not visible")
	}
	return id, err
}
