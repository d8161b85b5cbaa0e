package postgres

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	"github.com/schulit/cmdb/server/cmdb"
)

type swKey struct{ name, publisher, version string }

// catalogue caches the ids of the software catalogue, which only grows
// (rows are never deleted), so that a report of 700 packages does not
// look up 700 rows each time. Only ids of committed rows are cached: ids
// learned in a transaction are added after its commit.
type catalogue struct {
	mu  sync.RWMutex
	ids map[swKey]int64
}

// maxCatalogueCache bounds the cache (about 100 bytes an entry); beyond
// it, further ids are looked up each time.
const maxCatalogueCache = 500000

// add caches ids learned by a committed transaction.
func (c *catalogue) add(learned map[swKey]int64) {
	if len(learned) == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ids == nil {
		c.ids = map[swKey]int64{}
	}
	for k, id := range learned {
		if len(c.ids) >= maxCatalogueCache {
			return
		}
		c.ids[k] = id
	}
}

// resolve returns the catalogue ids of keys, inserting those that are
// new; the ids it did not have cached go into learned.
func (c *catalogue) resolve(ctx context.Context, tx *sqlx.Tx, keys []swKey, learned map[swKey]int64) (map[swKey]int64, error) {
	ids := make(map[swKey]int64, len(keys))
	var names, pubs, vers []string
	c.mu.RLock()
	for _, k := range keys {
		if id, ok := c.ids[k]; ok {
			ids[k] = id
		} else {
			names, pubs, vers = append(names, k.name), append(pubs, k.publisher), append(vers, k.version)
		}
	}
	c.mu.RUnlock()
	if len(names) == 0 {
		return ids, nil
	}
	// Sorted, so that concurrent inserts of the same packages cannot
	// deadlock; existing rows are read in the same statement.
	rows, err := tx.QueryxContext(ctx, `WITH k AS (SELECT * FROM unnest($1::text[], $2::text[], $3::text[]) AS k(n, p, v)),
		ins AS (INSERT INTO software (name, publisher, version) SELECT n, p, v FROM k ORDER BY 1, 2, 3
			ON CONFLICT DO NOTHING RETURNING id, name, publisher, version)
		SELECT id, name, publisher, version FROM ins
		UNION ALL SELECT s.id, s.name, s.publisher, s.version FROM k JOIN software s ON s.name = k.n AND s.publisher = k.p AND s.version = k.v`,
		pq.Array(names), pq.Array(pubs), pq.Array(vers))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var k swKey
		if err := rows.Scan(&id, &k.name, &k.publisher, &k.version); err != nil {
			return nil, err
		}
		ids[k], learned[k] = id, id
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for _, k := range keys {
		if _, ok := ids[k]; !ok {
			// Inserted by a transaction that has not committed yet: ON
			// CONFLICT waited for it, so it is there now.
			var id int64
			if err := tx.GetContext(ctx, &id, `SELECT id FROM software WHERE name = $1 AND publisher = $2 AND version = $3`,
				k.name, k.publisher, k.version); err != nil {
				return nil, err
			}
			ids[k], learned[k] = id, id
		}
	}
	return ids, nil
}

// writeSoftware brings the CIs' installed software in line with the
// software sections of applied reports: the catalogue gains what is new,
// and only the differences are written, with one history row per CI.
// Catalogue ids not cached before go into learned.
func (db *DB) writeSoftware(ctx context.Context, tx *sqlx.Tx, items []*cmdb.ReportItem, results []cmdb.ReportResult, now time.Time, learned map[swKey]int64) error {
	latest := map[int64]*cmdb.ReportItem{}
	for i, it := range items {
		if it.Software == nil || !results[i].Applied {
			continue
		}
		if cur := latest[it.Device.CIID]; cur == nil || cur.Report.Seq < it.Report.Seq {
			latest[it.Device.CIID] = it
		}
	}
	if len(latest) == 0 {
		return nil
	}
	want := map[int64]map[swKey]bool{}
	all := map[swKey]bool{}
	var keys []swKey
	cis := make([]int64, 0, len(latest))
	for ci, it := range latest {
		cis = append(cis, ci)
		want[ci] = map[swKey]bool{}
		for _, s := range *it.Software {
			k := swKey{strings.TrimSpace(s.Name), strings.TrimSpace(s.Publisher), strings.TrimSpace(s.Version)}
			want[ci][k] = true
			if !all[k] {
				all[k] = true
				keys = append(keys, k)
			}
		}
	}
	ids, err := db.software.resolve(ctx, tx, keys, learned)
	if err != nil {
		return err
	}
	have := map[int64]map[int64]bool{}
	rows, err := tx.QueryxContext(ctx, `SELECT ci_id, software_ids FROM ci_software_sets WHERE ci_id = ANY($1)`, pq.Array(cis))
	if err != nil {
		return err
	}
	for rows.Next() {
		var ci int64
		var set pq.Int64Array
		if err := rows.Scan(&ci, &set); err != nil {
			rows.Close()
			return err
		}
		have[ci] = make(map[int64]bool, len(set))
		for _, sw := range set {
			have[ci][sw] = true
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	var addCI, addSW, delCI, delSW []int64
	var hs []historyEntry
	changedCI := map[int64]bool{}
	for ci, ks := range want {
		added, removed := 0, 0
		keep := map[int64]bool{}
		for k := range ks {
			id := ids[k]
			keep[id] = true
			if !have[ci][id] {
				addCI, addSW = append(addCI, ci), append(addSW, id)
				added++
			}
		}
		for id := range have[ci] {
			if !keep[id] {
				delCI, delSW = append(delCI, ci), append(delSW, id)
				removed++
			}
		}
		if added+removed > 0 {
			changedCI[ci] = true
			hs = append(hs, historyEntry{ci, "software", fmt.Sprintf("%d packages", len(have[ci])),
				fmt.Sprintf("%d packages (+%d, -%d)", len(keep), added, removed), "agent", now})
		}
	}
	var setCI []int64
	var setIDs []string
	for ci, ks := range want {
		if !changedCI[ci] {
			continue
		}
		set := make([]int64, 0, len(ks))
		for k := range ks {
			set = append(set, ids[k])
		}
		slices.Sort(set)
		set = slices.Compact(set)
		lit, _ := pq.Int64Array(set).Value()
		setCI, setIDs = append(setCI, ci), append(setIDs, lit.(string))
	}
	if len(setCI) == 0 {
		return nil
	}
	// One statement, so that a batch pays one round trip for its software.
	_, err = tx.ExecContext(ctx, `WITH sets AS (INSERT INTO ci_software_sets (ci_id, software_ids)
			SELECT c, s::bigint[] FROM unnest($1::bigint[], $2::text[]) AS x(c, s)
			ON CONFLICT (ci_id) DO UPDATE SET software_ids = EXCLUDED.software_ids),
		added AS (INSERT INTO ci_software (ci_id, software_id, first_seen)
			SELECT c, s, $5 FROM unnest($3::bigint[], $4::bigint[]) AS x(c, s) ON CONFLICT DO NOTHING),
		removed AS (DELETE FROM ci_software USING unnest($6::bigint[], $7::bigint[]) AS x(c, s)
			WHERE ci_software.ci_id = x.c AND ci_software.software_id = x.s)
		SELECT 1`,
		pq.Array(setCI), pq.Array(setIDs), pq.Array(addCI), pq.Array(addSW), now, pq.Array(delCI), pq.Array(delSW))
	if err != nil {
		return err
	}
	return writeHistory(ctx, tx, hs...)
}

// FindSoftware lists the software installed on a visible CI.
func (db *DB) FindSoftware(ctx context.Context, s cmdb.Scope, ciID int64) ([]*cmdb.SoftwareItem, error) {
	if _, err := db.FindCIByID(ctx, s, ciID); err != nil {
		return nil, err
	}
	out := []*cmdb.SoftwareItem{}
	err := db.db.SelectContext(ctx, &out, `SELECT s.name, s.publisher, s.version FROM ci_software c JOIN software s ON s.id = c.software_id
		WHERE c.ci_id = $1 ORDER BY s.name, s.version`, ciID)
	return out, mapErr("postgres.FindSoftware", err)
}
