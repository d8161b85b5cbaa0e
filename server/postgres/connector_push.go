package postgres

import (
	"context"
	"strings"

	"github.com/lib/pq"
	"github.com/schulit/cmdb/server/cmdb"
)

// PushCandidates compares every active record's view with its CI in one
// query; see cmdb.ConnectorStore. A field counts only where the CMDB has
// a value. MACs differ when the source has none of the CI's MACs (a
// source often keeps one MAC field; the CMDB knows every NIC). Serials
// compare as the CMDB matches them, without case and surrounding space.
func (db *DB) PushCandidates(ctx context.Context, s cmdb.Scope, instanceID int64, status, location bool) ([]*cmdb.PushCandidate, error) {
	if _, err := db.FindConnectorByID(ctx, s, instanceID); err != nil {
		return nil, err
	}
	rows, err := db.db.QueryContext(ctx, `WITH cur AS (
			SELECT r.native_key, c.id AS ci_id, c.status, coalesce(sc.code, '') AS school, coalesce(sc.name, '') AS school_name,
				coalesce(b.name, '') AS building, coalesce(rm.name, '') AS room, c.serial,
				coalesce((SELECT array_agg(i.value ORDER BY i.value) FROM ci_identifiers i WHERE i.ci_id = c.id AND i.kind = 'mac'), '{}') AS macs,
				r.view_status, r.view_school, r.view_building, r.view_room, r.view_serial, r.view_macs
			FROM connector_records r
			JOIN cis c ON c.id = r.ci_id AND c.merged_into IS NULL
			LEFT JOIN schools sc ON sc.id = c.school_id
			LEFT JOIN rooms rm ON rm.id = c.room_id
			LEFT JOIN buildings b ON b.id = rm.building_id
			WHERE r.instance_id = $1 AND r.state = 'active' AND r.view_at IS NOT NULL)
		SELECT native_key, ci_id, status, school, school_name, building, room, serial, macs,
			view_status, view_school, view_building, view_room, view_serial, view_macs
		FROM cur
		WHERE ($2 AND status <> view_status)
			OR ($3 AND ((school <> '' AND school <> view_school) OR (room <> '' AND (room <> view_room OR building <> view_building))))
			OR (btrim(serial) <> '' AND upper(btrim(serial)) <> upper(btrim(view_serial)))
			OR (macs <> '{}' AND NOT (macs && view_macs))
		ORDER BY native_key`, instanceID, status, location)
	if err != nil {
		return nil, mapErr("postgres.PushCandidates", err)
	}
	defer rows.Close()
	out := []*cmdb.PushCandidate{}
	for rows.Next() {
		c := &cmdb.PushCandidate{}
		var macs, was pq.StringArray
		if err := rows.Scan(&c.NativeKey, &c.CIID, &c.Now.Status, &c.Now.School, &c.SchoolName, &c.Now.Building, &c.Now.Room,
			&c.Now.Serial, &macs, &c.Was.Status, &c.Was.School, &c.Was.Building, &c.Was.Room, &c.Was.Serial, &was); err != nil {
			return nil, mapErr("postgres.PushCandidates", err)
		}
		c.Now.Serial = strings.TrimSpace(c.Now.Serial)
		c.Now.MACs, c.Was.MACs = []string(macs), []string(was)
		out = append(out, c)
	}
	return out, mapErr("postgres.PushCandidates", rows.Err())
}

// MarkPushed writes what the source took into the view, in one
// statement; see cmdb.ConnectorStore. Fields not sent keep their view.
func (db *DB) MarkPushed(ctx context.Context, s cmdb.Scope, instanceID int64, done []*cmdb.PushCandidate) error {
	if len(done) == 0 {
		return nil
	}
	if _, err := db.FindConnectorByID(ctx, s, instanceID); err != nil {
		return err
	}
	n := len(done)
	keys, sent := make([]string, 0, n), make([]string, 0, n)
	status, school, building, room, serial, macs := make([]string, 0, n), make([]string, 0, n), make([]string, 0, n),
		make([]string, 0, n), make([]string, 0, n), make([]string, 0, n)
	for _, c := range done {
		var f []string
		for _, k := range []string{"status", "location", "serial", "macs"} {
			if c.Sent[k] {
				f = append(f, k)
			}
		}
		keys, sent = append(keys, c.NativeKey), append(sent, strings.Join(f, ","))
		status, school, building, room = append(status, c.Now.Status), append(school, c.Now.School), append(building, c.Now.Building), append(room, c.Now.Room)
		serial, macs = append(serial, c.Now.Serial), append(macs, strings.Join(c.Now.MACs, ","))
	}
	_, err := db.db.ExecContext(ctx, `UPDATE connector_records r SET
			view_status = CASE WHEN 'status' = ANY(x.f) THEN x.st ELSE r.view_status END,
			view_school = CASE WHEN 'location' = ANY(x.f) THEN x.sc ELSE r.view_school END,
			view_building = CASE WHEN 'location' = ANY(x.f) THEN x.b ELSE r.view_building END,
			view_room = CASE WHEN 'location' = ANY(x.f) THEN x.rm ELSE r.view_room END,
			view_serial = CASE WHEN 'serial' = ANY(x.f) THEN x.sn ELSE r.view_serial END,
			view_macs = CASE WHEN 'macs' = ANY(x.f) THEN string_to_array(x.m, ',') ELSE r.view_macs END,
			view_at = $2
		FROM (SELECT k, string_to_array(f, ',') AS f, st, sc, b, rm, sn, m
			FROM unnest($3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[])
				AS u(k, f, st, sc, b, rm, sn, m)) x
		WHERE r.instance_id = $1 AND r.native_key = x.k`,
		instanceID, db.now(), pq.Array(keys), pq.Array(sent), pq.Array(status), pq.Array(school), pq.Array(building),
		pq.Array(room), pq.Array(serial), pq.Array(macs))
	return mapErr("postgres.MarkPushed", err)
}
