package postgres

import (
	"context"
	"database/sql"
	"errors"
	"sync"
)

// ErrNotLeader is what Elector.IsLeader answers on every replica but one.
var ErrNotLeader = errors.New("another replica is the leader")

// Elector elects one leader among the server replicas on one database:
// the replica that holds a session advisory lock on a dedicated
// connection. If that replica dies, its connection and so its lock go,
// and the next replica to ask becomes the leader. It satisfies gocron's
// Elector interface.
type Elector struct {
	db  *DB
	key int64

	mu   sync.Mutex
	conn *sql.Conn
}

// NewElector returns an elector for the election named by key.
func (db *DB) NewElector(key int64) *Elector { return &Elector{db: db, key: key} }

// IsLeader returns nil if this replica is (or has just become) the leader.
func (e *Elector) IsLeader(ctx context.Context) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.conn != nil {
		// Still leader as long as the connection holding the lock lives.
		if err := e.conn.PingContext(ctx); err == nil {
			return nil
		}
		e.conn.Close()
		e.conn = nil
	}
	conn, err := e.db.db.Conn(ctx)
	if err != nil {
		return err
	}
	var got bool
	if err := conn.QueryRowContext(ctx, `SELECT pg_try_advisory_lock($1)`, e.key).Scan(&got); err != nil {
		conn.Close()
		return err
	}
	if !got {
		conn.Close()
		return ErrNotLeader
	}
	e.conn = conn
	return nil
}

// Resign gives up leadership (at shutdown), so that another replica can
// take over at once.
func (e *Elector) Resign() {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.conn != nil {
		e.conn.ExecContext(context.Background(), `SELECT pg_advisory_unlock($1)`, e.key)
		e.conn.Close()
		e.conn = nil
	}
}
