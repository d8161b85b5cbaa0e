package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/schulit/cmdb/server/cmdb"
)

// ciColumns selects a cis row into ciRow.
const ciColumns = `c.id, c.authority_id, coalesce(c.school_id, 0) AS school_id, coalesce(c.room_id, 0) AS room_id,
	c.class, c.status, c.name, c.vendor, c.model, c.serial, c.asset_tag, c.hostname, c.hardware_uuid, c.os_name,
	c.os_version, c.owner, coalesce(to_char(c.purchase_date, 'YYYY-MM-DD'), '') AS purchase_date,
	coalesce(to_char(c.warranty_end, 'YYYY-MM-DD'), '') AS warranty_end, c.attributes, c.provenance,
	coalesce(c.merged_into, 0) AS merged_into, c.created_at, c.updated_at`

// ciRow is a cis row as read and, through JSON and jsonb_to_recordset,
// as written.
type ciRow struct {
	ID           int64     `db:"id" json:"id"`
	AuthorityID  int64     `db:"authority_id" json:"authority_id"`
	SchoolID     int64     `db:"school_id" json:"school_id"`
	RoomID       int64     `db:"room_id" json:"room_id"`
	Class        string    `db:"class" json:"class"`
	Status       string    `db:"status" json:"status"`
	Name         string    `db:"name" json:"name"`
	Vendor       string    `db:"vendor" json:"vendor"`
	Model        string    `db:"model" json:"model"`
	Serial       string    `db:"serial" json:"serial"`
	AssetTag     string    `db:"asset_tag" json:"asset_tag"`
	Hostname     string    `db:"hostname" json:"hostname"`
	HardwareUUID string    `db:"hardware_uuid" json:"hardware_uuid"`
	OSName       string    `db:"os_name" json:"os_name"`
	OSVersion    string    `db:"os_version" json:"os_version"`
	Owner        string    `db:"owner" json:"owner"`
	PurchaseDate string    `db:"purchase_date" json:"purchase_date"`
	WarrantyEnd  string    `db:"warranty_end" json:"warranty_end"`
	Attributes   rawJSON   `db:"attributes" json:"attributes"`
	Provenance   rawJSON   `db:"provenance" json:"provenance"`
	MergedInto   int64     `db:"merged_into" json:"-"`
	CreatedAt    time.Time `db:"created_at" json:"-"`
	UpdatedAt    time.Time `db:"updated_at" json:"-"`
	// RepeatFailure is read by ciReadColumns only (JSON, NULL: none).
	RepeatFailure []byte `db:"repeat_failure" json:"-"`
}

// rawJSON is a jsonb value read as bytes and written verbatim.
type rawJSON []byte

// Scan implements sql.Scanner.
func (r *rawJSON) Scan(src any) error {
	switch v := src.(type) {
	case []byte:
		*r = append((*r)[:0], v...)
	case string:
		*r = rawJSON(v)
	case nil:
		*r = nil
	default:
		return fmt.Errorf("rawJSON: cannot scan %T", src)
	}
	return nil
}

// MarshalJSON writes the raw value.
func (r rawJSON) MarshalJSON() ([]byte, error) {
	if len(r) == 0 {
		return []byte("{}"), nil
	}
	return r, nil
}

func (r *ciRow) toCI() (*cmdb.CI, error) {
	c := &cmdb.CI{ID: r.ID, ShortCode: cmdb.ShortCode(r.ID), AuthorityID: r.AuthorityID, SchoolID: r.SchoolID, RoomID: r.RoomID, Class: r.Class,
		Status: r.Status, Name: r.Name, Vendor: r.Vendor, Model: r.Model, Serial: r.Serial, AssetTag: r.AssetTag,
		Hostname: r.Hostname, HardwareUUID: r.HardwareUUID, OSName: r.OSName, OSVersion: r.OSVersion, Owner: r.Owner,
		PurchaseDate: r.PurchaseDate, WarrantyEnd: r.WarrantyEnd, MergedInto: r.MergedInto,
		CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
	if err := json.Unmarshal(r.Attributes, &c.Attributes); err != nil {
		return nil, fmt.Errorf("ci %d attributes: %w", r.ID, err)
	}
	if err := json.Unmarshal(r.Provenance, &c.Provenance); err != nil {
		return nil, fmt.Errorf("ci %d provenance: %w", r.ID, err)
	}
	if c.Attributes == nil {
		c.Attributes = map[string]string{}
	}
	var err error
	if c.RepeatFailure, err = parseRepeatFailure(r.RepeatFailure); err != nil {
		return nil, fmt.Errorf("ci %d: %w", r.ID, err)
	}
	return c, nil
}

func fromCI(c *cmdb.CI) ciRow {
	attrs, _ := json.Marshal(c.Attributes)
	prov, _ := json.Marshal(c.Provenance)
	return ciRow{ID: c.ID, AuthorityID: c.AuthorityID, SchoolID: c.SchoolID, RoomID: c.RoomID, Class: c.Class,
		Status: c.Status, Name: c.Name, Vendor: c.Vendor, Model: c.Model, Serial: c.Serial, AssetTag: c.AssetTag,
		Hostname: c.Hostname, HardwareUUID: c.HardwareUUID, OSName: c.OSName, OSVersion: c.OSVersion, Owner: c.Owner,
		PurchaseDate: c.PurchaseDate, WarrantyEnd: c.WarrantyEnd, Attributes: attrs, Provenance: prov}
}

// ciRecordset is the column list of ciRow for jsonb_to_recordset.
const ciRecordset = `x(id bigint, authority_id bigint, school_id bigint, room_id bigint, class text, status text,
	name text, vendor text, model text, serial text, asset_tag text, hostname text, hardware_uuid text, os_name text,
	os_version text, owner text, purchase_date text, warranty_end text, attributes jsonb, provenance jsonb)`

// mustJSON marshals rows for jsonb_to_recordset. Our row types always marshal.
func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// updateCIs writes rows over their cis rows, setting updated_at to now.
func updateCIs(ctx context.Context, tx *sqlx.Tx, rows []ciRow, now time.Time) error {
	if len(rows) == 0 {
		return nil
	}
	_, err := tx.ExecContext(ctx, `UPDATE cis SET school_id = NULLIF(x.school_id, 0), room_id = NULLIF(x.room_id, 0),
		class = x.class, status = x.status, name = x.name, vendor = x.vendor, model = x.model, serial = x.serial,
		asset_tag = x.asset_tag, hostname = x.hostname, hardware_uuid = x.hardware_uuid, os_name = x.os_name,
		os_version = x.os_version, owner = x.owner, purchase_date = NULLIF(x.purchase_date, '')::date,
		warranty_end = NULLIF(x.warranty_end, '')::date, attributes = x.attributes, provenance = x.provenance,
		updated_at = $2
		FROM jsonb_to_recordset($1::jsonb) AS `+ciRecordset+` WHERE cis.id = x.id`, mustJSON(rows), now)
	return err
}
