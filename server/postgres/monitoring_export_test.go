package postgres

import "context"

// MonitoringLinkEvents returns the events counted on the monitoring
// links of a ticket.
func MonitoringLinkEvents(db *DB, ticketID int64) (n int64, err error) {
	err = db.db.GetContext(context.Background(), &n, `SELECT coalesce(sum(events), 0) FROM monitoring_tickets WHERE ticket_id = $1`, ticketID)
	return n, err
}
