package postgres

import (
	"context"
	"fmt"
	"slices"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	"github.com/schulit/cmdb/server/cmdb"
)

var _ cmdb.TenantStore = (*DB)(nil)

// CreateAuthority creates an authority. Only admins may.
func (db *DB) CreateAuthority(ctx context.Context, s cmdb.Scope, a *cmdb.Authority) error {
	if err := a.Validate(); err != nil {
		return err
	} else if !s.Admin {
		return cmdb.Errorf(cmdb.EFORBIDDEN, "Only platform admins may create authorities.")
	}
	err := db.db.QueryRowxContext(ctx, `INSERT INTO authorities (code, name) VALUES ($1, $2)
		RETURNING id, created_at`, a.Code, a.Name).Scan(&a.ID, &a.CreatedAt)
	return mapErr("postgres.CreateAuthority", err)
}

// FindAuthorities lists the authorities visible to the scope.
func (db *DB) FindAuthorities(ctx context.Context, s cmdb.Scope) ([]*cmdb.Authority, error) {
	var w where
	w.scope(s, "id", "")
	out := []*cmdb.Authority{}
	err := db.db.SelectContext(ctx, &out, rebind(`SELECT id, code, name, created_at AS createdat FROM authorities WHERE `+w.String()+` ORDER BY code`), w.args...)
	return out, mapErr("postgres.FindAuthorities", err)
}

// FindAuthorityByID returns one authority; ENOTFOUND outside the scope.
func (db *DB) FindAuthorityByID(ctx context.Context, s cmdb.Scope, id int64) (*cmdb.Authority, error) {
	if !s.CanSeeAuthority(id) {
		return nil, notFound("authority", id)
	}
	var a cmdb.Authority
	err := db.db.GetContext(ctx, &a, `SELECT id, code, name, created_at AS createdat FROM authorities WHERE id = $1`, id)
	if cmdb.ErrorCode(mapErr("", err)) == cmdb.ENOTFOUND {
		return nil, notFound("authority", id)
	} else if err != nil {
		return nil, mapErr("postgres.FindAuthorityByID", err)
	}
	return &a, nil
}

// CreateSchool creates a school in a visible authority.
func (db *DB) CreateSchool(ctx context.Context, s cmdb.Scope, v *cmdb.School) error {
	if err := v.Validate(); err != nil {
		return err
	} else if _, err := db.FindAuthorityByID(ctx, s, v.AuthorityID); err != nil {
		return asRef(err, "authority_id", "authority", v.AuthorityID)
	}
	err := db.db.QueryRowxContext(ctx, `INSERT INTO schools (authority_id, code, name) VALUES ($1, $2, $3) RETURNING id`,
		v.AuthorityID, v.Code, v.Name).Scan(&v.ID)
	return mapErr("postgres.CreateSchool", err)
}

// placeReadScope adds the condition under which the scope may read a
// school or room (its columns authority a, school sc and id, qualified
// with the table's name; kind is "school_id" or "room_id", the column of
// tickets and CIs that names one): its tenants' places, and for a provider's staff also the school
// and room of a ticket assigned to their provider and those of the CIs
// they read through such a ticket (see ciReadScope), so that a
// technician knows where to go. It grants reading the place alone: not
// its other rooms, devices or tickets, and no change (every write checks
// CanWrite).
func (w *where) placeReadScope(s cmdb.Scope, a, sc, id, kind string) {
	if s.Admin || len(s.Providers) == 0 {
		w.scope(s, a, sc)
		return
	}
	var own where
	own.scope(s, a, sc)
	providers := pq.Array(s.Providers)
	w.add("("+own.String()+` OR EXISTS (SELECT 1 FROM tickets pt WHERE pt.provider_id = ANY(?) AND pt.`+kind+` = `+id+`)
		OR EXISTS (SELECT 1 FROM tickets pt JOIN ticket_cis pc ON pc.ticket_id = pt.id JOIN cis pci ON pci.id = pc.ci_id
			WHERE pt.provider_id = ANY(?) AND pt.status <> 'closed' AND pci.`+kind+` = `+id+`))`,
		append(own.args, providers, providers)...)
}

// FindSchools lists visible schools.
func (db *DB) FindSchools(ctx context.Context, s cmdb.Scope, f cmdb.TenantFilter) ([]*cmdb.School, error) {
	var w where
	w.placeReadScope(s, "schools.authority_id", "schools.id", "schools.id", "school_id")
	if f.AuthorityID != 0 {
		w.add("authority_id = ?", f.AuthorityID)
	}
	if f.SchoolID != 0 {
		w.add("id = ?", f.SchoolID)
	}
	out := []*cmdb.School{}
	err := db.db.SelectContext(ctx, &out, rebind(`SELECT id, authority_id AS authorityid, code, name FROM schools WHERE `+w.String()+` ORDER BY authority_id, code`), w.args...)
	return out, mapErr("postgres.FindSchools", err)
}

// FindSchoolByID returns one school; ENOTFOUND outside the scope.
func (db *DB) FindSchoolByID(ctx context.Context, s cmdb.Scope, id int64) (*cmdb.School, error) {
	out, err := db.FindSchools(ctx, s, cmdb.TenantFilter{SchoolID: id})
	if err != nil {
		return nil, err
	} else if len(out) == 0 {
		return nil, notFound("school", id)
	}
	return out[0], nil
}

// CreateBuilding creates a building in a visible school.
func (db *DB) CreateBuilding(ctx context.Context, s cmdb.Scope, v *cmdb.Building) error {
	if err := v.Validate(); err != nil {
		return err
	}
	sch, err := db.FindSchoolByID(ctx, s, v.SchoolID)
	if err != nil {
		return asRef(err, "school_id", "school", v.SchoolID)
	} else if !s.CanWrite(sch.AuthorityID, sch.ID) {
		return cmdb.Errorf(cmdb.EFORBIDDEN, "You may not change the buildings of this school.")
	}
	err = db.db.QueryRowxContext(ctx, `INSERT INTO buildings (school_id, code, name) VALUES ($1, $2, $3) RETURNING id`,
		v.SchoolID, v.Code, v.Name).Scan(&v.ID)
	return mapErr("postgres.CreateBuilding", err)
}

// FindBuildings lists visible buildings.
func (db *DB) FindBuildings(ctx context.Context, s cmdb.Scope, f cmdb.TenantFilter) ([]*cmdb.Building, error) {
	var w where
	w.scope(s, "sc.authority_id", "sc.id")
	if f.AuthorityID != 0 {
		w.add("sc.authority_id = ?", f.AuthorityID)
	}
	if f.SchoolID != 0 {
		w.add("b.school_id = ?", f.SchoolID)
	}
	if f.BuildingID != 0 {
		w.add("b.id = ?", f.BuildingID)
	}
	out := []*cmdb.Building{}
	err := db.db.SelectContext(ctx, &out, rebind(`SELECT b.id, b.school_id AS schoolid, b.code, b.name
		FROM buildings b JOIN schools sc ON sc.id = b.school_id WHERE `+w.String()+` ORDER BY b.school_id, b.code`), w.args...)
	return out, mapErr("postgres.FindBuildings", err)
}

// CreateRoom creates a room in a visible building.
func (db *DB) CreateRoom(ctx context.Context, s cmdb.Scope, v *cmdb.Room) error {
	if err := v.Validate(); err != nil {
		return err
	}
	bs, err := db.FindBuildings(ctx, s, cmdb.TenantFilter{BuildingID: v.BuildingID})
	if err != nil {
		return err
	} else if len(bs) == 0 {
		return unknownRef("building_id", "building", v.BuildingID)
	}
	if sch, err := db.FindSchoolByID(ctx, s, bs[0].SchoolID); err != nil {
		return err
	} else if !s.CanWrite(sch.AuthorityID, sch.ID) {
		return cmdb.Errorf(cmdb.EFORBIDDEN, "You may not change the rooms of this school.")
	}
	err = db.db.QueryRowxContext(ctx, `INSERT INTO rooms (building_id, school_id, authority_id, code, name)
		SELECT b.id, b.school_id, sc.authority_id, $2, $3 FROM buildings b JOIN schools sc ON sc.id = b.school_id
		WHERE b.id = $1 RETURNING id, school_id, authority_id`,
		v.BuildingID, v.Code, v.Name).Scan(&v.ID, &v.SchoolID, &v.AuthorityID)
	return mapErr("postgres.CreateRoom", err)
}

// FindRooms lists visible rooms.
func (db *DB) FindRooms(ctx context.Context, s cmdb.Scope, f cmdb.TenantFilter) ([]*cmdb.Room, error) {
	var w where
	w.placeReadScope(s, "rooms.authority_id", "rooms.school_id", "rooms.id", "room_id")
	if f.AuthorityID != 0 {
		w.add("authority_id = ?", f.AuthorityID)
	}
	if f.SchoolID != 0 {
		w.add("school_id = ?", f.SchoolID)
	}
	if f.BuildingID != 0 {
		w.add("building_id = ?", f.BuildingID)
	}
	out := []*cmdb.Room{}
	err := db.db.SelectContext(ctx, &out, rebind(`SELECT id, building_id AS buildingid, school_id AS schoolid, authority_id AS authorityid, code, name
		FROM rooms WHERE `+w.String()+` ORDER BY school_id, building_id, code`), w.args...)
	return out, mapErr("postgres.FindRooms", err)
}

// FindRoomByID returns one room; ENOTFOUND outside the scope.
func (db *DB) FindRoomByID(ctx context.Context, s cmdb.Scope, id int64) (*cmdb.Room, error) {
	var w where
	w.placeReadScope(s, "rooms.authority_id", "rooms.school_id", "rooms.id", "room_id")
	w.add("id = ?", id)
	var r cmdb.Room
	err := db.db.GetContext(ctx, &r, rebind(`SELECT id, building_id AS buildingid, school_id AS schoolid, authority_id AS authorityid, code, name FROM rooms WHERE `+w.String()), w.args...)
	if cmdb.ErrorCode(mapErr("", err)) == cmdb.ENOTFOUND {
		return nil, notFound("room", id)
	} else if err != nil {
		return nil, mapErr("postgres.FindRoomByID", err)
	}
	return &r, nil
}

// CreateProvider creates a provider organisation. Only admins may.
func (db *DB) CreateProvider(ctx context.Context, s cmdb.Scope, v *cmdb.Provider) error {
	if err := v.Validate(); err != nil {
		return err
	} else if !s.Admin {
		return cmdb.Errorf(cmdb.EFORBIDDEN, "Only platform admins may create providers.")
	}
	return mapErr("postgres.CreateProvider", db.inTx(ctx, func(tx *sqlx.Tx) error {
		if err := tx.QueryRowxContext(ctx, `INSERT INTO providers (code, name) VALUES ($1, $2) RETURNING id`, v.Code, v.Name).Scan(&v.ID); err != nil {
			return err
		}
		for i, a := range v.Authorities {
			if _, err := tx.ExecContext(ctx, `INSERT INTO provider_contracts (provider_id, authority_id) VALUES ($1, $2)`, v.ID, a); err != nil {
				return cmdb.WithFieldPrefix(mapErr("", err), fmt.Sprintf("authority_ids[%d]", i))
			}
		}
		return nil
	}))
}

// FindProviders lists providers with a contract in a visible authority
// (admins see all).
func (db *DB) FindProviders(ctx context.Context, s cmdb.Scope) ([]*cmdb.Provider, error) {
	rows, err := db.db.QueryxContext(ctx, `SELECT p.id, p.code, p.name,
		coalesce(array_agg(c.authority_id ORDER BY c.authority_id) FILTER (WHERE c.authority_id IS NOT NULL), '{}')
		FROM providers p LEFT JOIN provider_contracts c ON c.provider_id = p.id GROUP BY p.id ORDER BY p.code`)
	if err != nil {
		return nil, mapErr("postgres.FindProviders", err)
	}
	defer rows.Close()
	out := []*cmdb.Provider{}
	for rows.Next() {
		var p cmdb.Provider
		var auths pq.Int64Array
		if err := rows.Scan(&p.ID, &p.Code, &p.Name, &auths); err != nil {
			return nil, mapErr("postgres.FindProviders", err)
		}
		p.Authorities = []int64{}
		for _, a := range auths {
			if s.CanSeeAuthority(a) {
				p.Authorities = append(p.Authorities, a)
			}
		}
		if s.Admin || len(p.Authorities) > 0 || slices.Contains(s.Providers, p.ID) {
			out = append(out, &p)
		}
	}
	return out, mapErr("postgres.FindProviders", rows.Err())
}

// AddContract links a provider to an authority. Only admins may.
func (db *DB) AddContract(ctx context.Context, s cmdb.Scope, providerID, authorityID int64) error {
	if !s.Admin {
		return cmdb.Errorf(cmdb.EFORBIDDEN, "Only platform admins may add contracts.")
	}
	var n int
	if err := db.db.GetContext(ctx, &n, `SELECT count(*) FROM providers WHERE id = $1`, providerID); err != nil {
		return mapErr("postgres.AddContract", err)
	} else if n == 0 {
		return notFound("provider", providerID)
	} else if _, err := db.FindAuthorityByID(ctx, s, authorityID); err != nil {
		return asRef(err, "authority_id", "authority", authorityID)
	}
	_, err := db.db.ExecContext(ctx, `INSERT INTO provider_contracts (provider_id, authority_id) VALUES ($1, $2)
		ON CONFLICT DO NOTHING`, providerID, authorityID)
	return mapErr("postgres.AddContract", err)
}
