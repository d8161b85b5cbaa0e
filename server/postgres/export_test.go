package postgres

// SetVerifyHook makes db call f once per Argon2 password verification.
func SetVerifyHook(db *DB, f func()) { db.verifyHook = f }
