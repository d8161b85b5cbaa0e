package postgres

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/jmoiron/sqlx"
	"github.com/schulit/cmdb/server/cmdb"
)

// UpdateSNMPCredential changes a credential profile in one transaction;
// see cmdb.SNMPStore. Secrets left empty keep the stored ones while the
// version stays, so that a name can change without retyping them.
func (db *DB) UpdateSNMPCredential(ctx context.Context, s cmdb.Scope, id int64, c *cmdb.SNMPCredential) error {
	if err := cmdb.ValidateName("name", c.Name); err != nil {
		return err
	}
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		var row struct {
			AuthorityID int64  `db:"authority_id"`
			SchoolID    int64  `db:"school_id"`
			Version     string `db:"version"`
			Sealed      []byte `db:"secrets_enc"`
		}
		err := tx.GetContext(ctx, &row, `SELECT authority_id, school_id, version, secrets_enc FROM snmp_credentials WHERE id = $1 FOR UPDATE`, id)
		if cmdb.ErrorCode(mapErr("", err)) == cmdb.ENOTFOUND || (err == nil && !s.CanSee(row.AuthorityID, row.SchoolID)) {
			return notFound(snmpObjectNames["snmp_credential"], id)
		} else if err != nil {
			return err
		} else if !s.CanWrite(row.AuthorityID, row.SchoolID) {
			return cmdb.Errorf(cmdb.EFORBIDDEN, "You may not change the devices of this school.")
		}
		var replaced []string
		if c.Version == row.Version {
			plain, err := db.seal.open(row.Sealed)
			if err != nil {
				return fmt.Errorf("postgres.UpdateSNMPCredential: credential profile %d cannot be decrypted (was the secret key changed?): %w", id, err)
			}
			var old snmpSecrets
			if err := json.Unmarshal(plain, &old); err != nil {
				// The JSON error may quote the plaintext: do not wrap it.
				return fmt.Errorf("postgres.UpdateSNMPCredential: credential profile %d: its decrypted secrets are not valid JSON", id)
			}
			for _, f := range []struct {
				name  string
				typed *cmdb.Secret
				old   string
			}{{"community", &c.Community, old.Community}, {"auth_pass", &c.AuthPass, old.AuthPass}, {"priv_pass", &c.PrivPass, old.PrivPass}} {
				if *f.typed == "" {
					*f.typed = cmdb.Secret(f.old)
				} else {
					replaced = append(replaced, f.name)
				}
			}
			// A protocol switched off takes its passphrase with it.
			if c.AuthProto == "" && c.Version == "3" {
				c.AuthPass = ""
			}
			if c.PrivProto == "" {
				c.PrivPass = ""
			}
		} else {
			replaced = []string{"community", "auth_pass", "priv_pass"}
		}
		if err := c.Validate(); err != nil {
			return err
		}
		sec, err := json.Marshal(snmpSecrets{c.Community.Reveal(), c.AuthPass.Reveal(), c.PrivPass.Reveal()})
		if err != nil { // strings always marshal; the error never holds them
			return fmt.Errorf("postgres.UpdateSNMPCredential: encode secrets: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE snmp_credentials SET name = $2, version = $3, v3_user = $4, auth_proto = $5,
			priv_proto = $6, secrets_enc = $7 WHERE id = $1`, id, c.Name, c.Version, c.User, c.AuthProto, c.PrivProto, db.seal.seal(sec)); err != nil {
			return err
		}
		c.ID = id
		return audit(ctx, tx, s, "snmp_credential_updated", "snmp_credential:"+itoa(id), row.AuthorityID,
			map[string]any{"school_id": row.SchoolID, "version": c.Version, "secrets_replaced": replaced}, db.now())
	})
	c.Community, c.AuthPass, c.PrivPass = "", "", ""
	return mapErr("postgres.UpdateSNMPCredential", err)
}
