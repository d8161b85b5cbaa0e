package postgres

import (
	"context"
	"sync"

	"github.com/jmoiron/sqlx"
)

// prepared caches statements prepared once per process, for the hot
// paths that run thousands of times a second (monitoring edges): a
// prepared statement is parsed and planned once per connection instead of
// on every call, which is most of the database's work for a short
// statement.
type prepared struct {
	mu sync.Mutex
	m  map[string]*sqlx.Stmt
}

// prepare returns the statement for query, prepared on first use.
func (db *DB) prepare(ctx context.Context, query string) (*sqlx.Stmt, error) {
	db.stmts.mu.Lock()
	defer db.stmts.mu.Unlock()
	if st, ok := db.stmts.m[query]; ok {
		return st, nil
	}
	st, err := db.db.PreparexContext(ctx, query)
	if err != nil {
		return nil, err
	}
	if db.stmts.m == nil {
		db.stmts.m = map[string]*sqlx.Stmt{}
	}
	db.stmts.m[query] = st
	return st, nil
}

// txStmt returns query prepared for use in tx (database/sql reuses the
// connection's prepared statement when it has one).
func (db *DB) txStmt(ctx context.Context, tx *sqlx.Tx, query string) (*sqlx.Stmt, error) {
	st, err := db.prepare(ctx, query)
	if err != nil {
		return nil, err
	}
	return tx.StmtxContext(ctx, st), nil
}

// closeStmts closes the cached statements.
func (db *DB) closeStmts() {
	db.stmts.mu.Lock()
	defer db.stmts.mu.Unlock()
	for _, st := range db.stmts.m {
		st.Close()
	}
	db.stmts.m = nil
}

// txExec runs query, prepared, in tx.
func (db *DB) txExec(ctx context.Context, tx *sqlx.Tx, query string, args ...any) error {
	st, err := db.txStmt(ctx, tx, query)
	if err != nil {
		return err
	}
	_, err = st.ExecContext(ctx, args...)
	return err
}
