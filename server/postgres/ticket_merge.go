package postgres

import (
	"context"
	"fmt"
	"slices"

	"github.com/jmoiron/sqlx"
	"github.com/schulit/cmdb/server/cmdb"
)

// MergeTicket merges a duplicate into another ticket; see
// cmdb.TicketStore. Both rows are locked, the lower id first, so that two
// merges of the same pair wait for each other rather than deadlock.
func (db *DB) MergeTicket(ctx context.Context, s cmdb.Scope, id, into int64) (*cmdb.Ticket, error) {
	if into <= 0 {
		return nil, cmdb.Invalid("into", "is required: the id or number of the ticket to merge into")
	}
	if id == into {
		return nil, cmdb.Invalid("into", "a ticket cannot be merged into itself")
	}
	var out *cmdb.Ticket
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		var dup, target *cmdb.Ticket
		for _, n := range []int64{min(id, into), max(id, into)} {
			t, err := findTicket(ctx, tx, s, n, true)
			if n == into {
				target, err = t, asRef(err, "into", "ticket", into)
			} else {
				dup = t
			}
			if err != nil {
				return err
			}
		}
		switch {
		case !staffOf(s, dup) || !staffOf(s, target):
			return cmdb.Errorf(cmdb.EFORBIDDEN, "Only IT staff working on both tickets merge them.")
		case dup.AuthorityID != target.AuthorityID:
			return cmdb.Invalid("into", "ticket %s lies in another authority", target.Number)
		case dup.MergedInto != 0:
			return &cmdb.Error{Code: cmdb.ECONFLICT, Field: "status", Message: fmt.Sprintf("Ticket %s was already merged into another ticket; a merged ticket cannot change.", dup.Number)}
		case dup.Status == cmdb.StatusClosed:
			return &cmdb.Error{Code: cmdb.ECONFLICT, Field: "status", Message: fmt.Sprintf("Ticket %s is closed; a closed ticket cannot change.", dup.Number)}
		case target.MergedInto != 0 || target.Status == cmdb.StatusClosed:
			return &cmdb.Error{Code: cmdb.ECONFLICT, Field: "into", Message: fmt.Sprintf("Ticket %s is closed; merge into an open ticket.", target.Number)}
		case dup.Type != target.Type:
			// Only incidents count for repeat failures: a merge across types
			// would hide or invent one.
			return cmdb.Invalid("into", "ticket %s is a %s, %s a %s; merge only tickets of one type", target.Number, target.Type, dup.Number, dup.Type)
		}
		now := db.now()
		if _, err := tx.ExecContext(ctx, `UPDATE tickets SET status = 'closed', closed_at = $2, updated_at = $2, merged_into_id = $3 WHERE id = $1`,
			dup.ID, now, target.ID); err != nil {
			return err
		}
		// The duplicate's people are affected by the same fault.
		var people []int64
		if err := tx.SelectContext(ctx, &people, `WITH p AS (
				SELECT user_id FROM ticket_watchers WHERE ticket_id = $1
				UNION SELECT reporter_user_id FROM tickets WHERE id = $1 AND reporter_user_id IS NOT NULL)
			INSERT INTO ticket_watchers (ticket_id, user_id, created_at)
			SELECT $2, p.user_id, $3 FROM p WHERE p.user_id IS DISTINCT FROM $4
			ON CONFLICT DO NOTHING RETURNING user_id`, dup.ID, target.ID, now, nullID(target.ReporterUserID)); err != nil {
			return err
		}
		slices.Sort(people)
		var added []int64
		if err := tx.SelectContext(ctx, &added, `INSERT INTO ticket_cis (ticket_id, ci_id) SELECT $1, ci_id FROM ticket_cis WHERE ticket_id = $2
			ON CONFLICT DO NOTHING RETURNING ci_id`, target.ID, dup.ID); err != nil {
			return err
		}
		dupChanges := []change{{"status", dup.Status, cmdb.StatusClosed}, {"merged_into", "", target.Number}}
		targetChanges := []change{{"merged", "", dup.Number}}
		if len(added) > 0 {
			targetChanges = append(targetChanges, change{"ci_ids", joinIDs(target.CIIDs), joinIDs(sortedIDs(append(slices.Clone(target.CIIDs), added...)))})
		}
		for _, u := range people {
			targetChanges = append(targetChanges, change{"watcher", "", "user:" + idText(u)})
		}
		notes := []struct {
			ticket int64
			body   string
		}{
			{dup.ID, fmt.Sprintf("Als Duplikat von %s geschlossen; bitte dort weiterverfolgen.", target.Number)},
			{target.ID, fmt.Sprintf("Ticket %s wurde als Duplikat hierher übernommen.", dup.Number)},
		}
		for _, n := range notes {
			if _, err := tx.ExecContext(ctx, `INSERT INTO ticket_comments (ticket_id, author, author_user_id, body, internal, channel, created_at)
				VALUES ($1, $2, $3, $4, false, 'api', $5)`, n.ticket, s.Source(), nullID(s.UserID), n.body, now); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE tickets SET updated_at = $2 WHERE id = $1`, target.ID, now); err != nil {
			return err
		}
		if err := addTicketHistory(ctx, tx, dup.ID, now, s, cmdb.ChannelAPI, dupChanges); err != nil {
			return err
		}
		if err := addTicketHistory(ctx, tx, target.ID, now, s, cmdb.ChannelAPI, targetChanges); err != nil {
			return err
		}
		if dup.Type == cmdb.TicketIncident {
			// The two now count once on the duplicate's CIs and the target's.
			if err := repeatFailuresAfterLink(ctx, tx, target.AuthorityID, append(slices.Clone(dup.CIIDs), target.CIIDs...), now); err != nil {
				return err
			}
		}
		var err error
		out, err = findTicket(ctx, tx, cmdb.AdminScope(s.Subject), target.ID, false)
		return err
	})
	return out, mapErr("postgres.MergeTicket", err)
}
