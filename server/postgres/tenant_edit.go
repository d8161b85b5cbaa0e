package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	"github.com/schulit/cmdb/server/cmdb"
)

// FindBuildingByID returns one building; ENOTFOUND outside the scope.
func (db *DB) FindBuildingByID(ctx context.Context, s cmdb.Scope, id int64) (*cmdb.Building, error) {
	out, err := db.FindBuildings(ctx, s, cmdb.TenantFilter{BuildingID: id})
	if err != nil {
		return nil, err
	} else if len(out) == 0 {
		return nil, notFound("building", id)
	}
	return out[0], nil
}

// UpdateSchool renames a school (admins and the authority's IT).
func (db *DB) UpdateSchool(ctx context.Context, s cmdb.Scope, id int64, u cmdb.TenantUpdate) (*cmdb.School, error) {
	if err := u.Validate(); err != nil {
		return nil, err
	}
	sch, err := db.FindSchoolByID(ctx, s, id)
	if err != nil {
		return nil, err
	} else if !s.CanSeeAuthority(sch.AuthorityID) {
		return nil, cmdb.Errorf(cmdb.EFORBIDDEN, "Only the authority's IT may rename school %d.", id)
	}
	if err := db.rename(ctx, s, "schools", "school", id, sch.AuthorityID, u, "this authority"); err != nil {
		return nil, err
	}
	return db.FindSchoolByID(ctx, s, id)
}

// UpdateBuilding renames a building (those who may change its school).
func (db *DB) UpdateBuilding(ctx context.Context, s cmdb.Scope, id int64, u cmdb.TenantUpdate) (*cmdb.Building, error) {
	if err := u.Validate(); err != nil {
		return nil, err
	}
	b, err := db.FindBuildingByID(ctx, s, id)
	if err != nil {
		return nil, err
	}
	sch, err := db.FindSchoolByID(ctx, s, b.SchoolID)
	if err != nil {
		return nil, err
	} else if !s.CanWrite(sch.AuthorityID, sch.ID) {
		return nil, cmdb.Errorf(cmdb.EFORBIDDEN, "You may not change the buildings of this school.")
	}
	if err := db.rename(ctx, s, "buildings", "building", id, sch.AuthorityID, u, "this school"); err != nil {
		return nil, err
	}
	return db.FindBuildingByID(ctx, s, id)
}

// UpdateRoom renames a room (those who may change its school).
func (db *DB) UpdateRoom(ctx context.Context, s cmdb.Scope, id int64, u cmdb.TenantUpdate) (*cmdb.Room, error) {
	if err := u.Validate(); err != nil {
		return nil, err
	}
	r, err := db.FindRoomByID(ctx, s, id)
	if err != nil {
		return nil, err
	} else if !s.CanWrite(r.AuthorityID, r.SchoolID) {
		return nil, cmdb.Errorf(cmdb.EFORBIDDEN, "You may not change the rooms of this school.")
	}
	if err := db.rename(ctx, s, "rooms", "room", id, r.AuthorityID, u, "this building"); err != nil {
		return nil, err
	}
	return db.FindRoomByID(ctx, s, id)
}

// rename sets code and name of one row of table (schools, buildings or
// rooms; never user input) and records it in the audit log. A code taken
// by a sibling is ECONFLICT on code.
func (db *DB) rename(ctx context.Context, s cmdb.Scope, table, kind string, id, authorityID int64, u cmdb.TenantUpdate, within string) error {
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE `+table+` SET code = coalesce($2, code), name = coalesce($3, name) WHERE id = $1`,
			id, u.Code, u.Name); err != nil {
			return err
		}
		detail := map[string]any{}
		if u.Code != nil {
			detail["code"] = *u.Code
		}
		if u.Name != nil {
			detail["name"] = *u.Name
		}
		return audit(ctx, tx, s, cmdb.AuditOrgRenamed, kind+":"+itoa(id), authorityID, detail, db.now())
	})
	var pe *pq.Error
	if errors.As(err, &pe) && pe.Code == "23505" {
		return &cmdb.Error{Code: cmdb.ECONFLICT, Field: "code", Message: "is already taken in " + within}
	}
	return mapErr("postgres.Update"+strings.ToUpper(kind[:1])+kind[1:], err)
}

// holding is one kind of thing that keeps an object from being deleted.
type holding struct {
	one, many string // "CI", "CIs"
	query     string // SELECT count(*) … with $1 the object's id
}

// DeleteSchool deletes an empty school (admins and the authority's IT).
func (db *DB) DeleteSchool(ctx context.Context, s cmdb.Scope, id int64) error {
	sch, err := db.FindSchoolByID(ctx, s, id)
	if err != nil {
		return err
	} else if !s.CanSeeAuthority(sch.AuthorityID) {
		return cmdb.Errorf(cmdb.EFORBIDDEN, "Only the authority's IT may delete school %d.", id)
	}
	return db.deleteOrg(ctx, s, "schools", "school", id, sch.AuthorityID, []holding{
		{"building", "buildings", `SELECT count(*) FROM buildings WHERE school_id = $1`},
		{"CI", "CIs", `SELECT count(*) FROM cis WHERE school_id = $1 AND merged_into IS NULL`},
		{"enrolled device", "enrolled devices", `SELECT count(*) FROM devices WHERE school_id = $1`},
		{"membership", "memberships", `SELECT count(*) FROM memberships WHERE school_id = $1`},
		{"enrolment token", "enrolment tokens", `SELECT count(*) FROM enrolment_tokens WHERE school_id = $1`},
		{"SNMP credential profile", "SNMP credential profiles", `SELECT count(*) FROM snmp_credentials WHERE school_id = $1`},
		{"SNMP target", "SNMP targets", `SELECT count(*) FROM snmp_targets WHERE school_id = $1`},
		{"SNMP range", "SNMP ranges", `SELECT count(*) FROM snmp_ranges WHERE school_id = $1`},
	}, `UPDATE cis SET room_id = NULL, school_id = NULL WHERE school_id = $1 AND merged_into IS NOT NULL`)
}

// DeleteBuilding deletes a building without rooms (those who may change
// its school).
func (db *DB) DeleteBuilding(ctx context.Context, s cmdb.Scope, id int64) error {
	b, err := db.FindBuildingByID(ctx, s, id)
	if err != nil {
		return err
	}
	sch, err := db.FindSchoolByID(ctx, s, b.SchoolID)
	if err != nil {
		return err
	} else if !s.CanWrite(sch.AuthorityID, sch.ID) {
		return cmdb.Errorf(cmdb.EFORBIDDEN, "You may not change the buildings of this school.")
	}
	return db.deleteOrg(ctx, s, "buildings", "building", id, sch.AuthorityID, []holding{
		{"room", "rooms", `SELECT count(*) FROM rooms WHERE building_id = $1`},
	}, "")
}

// DeleteRoom deletes a room without CIs (those who may change its school).
func (db *DB) DeleteRoom(ctx context.Context, s cmdb.Scope, id int64) error {
	r, err := db.FindRoomByID(ctx, s, id)
	if err != nil {
		return err
	} else if !s.CanWrite(r.AuthorityID, r.SchoolID) {
		return cmdb.Errorf(cmdb.EFORBIDDEN, "You may not change the rooms of this school.")
	}
	return db.deleteOrg(ctx, s, "rooms", "room", id, r.AuthorityID, []holding{
		{"CI", "CIs", `SELECT count(*) FROM cis WHERE room_id = $1 AND merged_into IS NULL`},
	}, `UPDATE cis SET room_id = NULL WHERE room_id = $1 AND merged_into IS NOT NULL`)
}

// deleteOrg deletes one row of table in a transaction that first counts
// what is still in it (ECONFLICT naming all of it) and runs release, which
// drops the references of CIs merged away (they live on in the CI they
// were merged into, which has its own location).
func (db *DB) deleteOrg(ctx context.Context, s cmdb.Scope, table, kind string, id, authorityID int64, held []holding, release string) error {
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		// Lock the row, so that nothing moves in between count and delete.
		if _, err := tx.ExecContext(ctx, `SELECT 1 FROM `+table+` WHERE id = $1 FOR UPDATE`, id); err != nil {
			return err
		}
		var in []string
		for _, h := range held {
			var n int
			if err := tx.GetContext(ctx, &n, h.query, id); err != nil {
				return err
			}
			switch {
			case n == 1:
				in = append(in, "1 "+h.one)
			case n > 1:
				in = append(in, fmt.Sprintf("%d %s", n, h.many))
			}
		}
		if len(in) > 0 {
			return cmdb.Errorf(cmdb.ECONFLICT, "%s%s %d still holds %s; move or delete them first.",
				strings.ToUpper(kind[:1]), kind[1:], id, strings.Join(in, ", "))
		}
		if release != "" {
			if _, err := tx.ExecContext(ctx, release, id); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM `+table+` WHERE id = $1`, id); err != nil {
			return err
		}
		return audit(ctx, tx, s, cmdb.AuditOrgDeleted, kind+":"+itoa(id), authorityID, nil, db.now())
	})
	var pe *pq.Error
	if errors.As(err, &pe) && pe.Code == "23503" {
		// Something this function does not count still refers to it.
		return cmdb.Errorf(cmdb.ECONFLICT, "%s%s %d is still referred to (%s); remove that first.",
			strings.ToUpper(kind[:1]), kind[1:], id, pe.Detail)
	}
	return mapErr("postgres.Delete"+strings.ToUpper(kind[:1])+kind[1:], err)
}
