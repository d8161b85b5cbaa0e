// Package schema holds the numbered SQL migrations of the CMDB database.
// Files are named NNNN_description.sql, applied in order, forward-only;
// a migration that has landed is never edited.
package schema

import "embed"

// FS holds the migration files.
//
//go:embed *.sql
var FS embed.FS
