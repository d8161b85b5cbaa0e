-- Writing CMDB changes back through a connector's Push.
--
-- push turns it on per instance (the plugin must have the "push"
-- capability; the host checks when it is turned on).
ALTER TABLE connector_instances ADD COLUMN push boolean NOT NULL DEFAULT false;

-- The source's view of the pushable fields of each record, in CMDB words:
-- as the source delivered it on the last pull that wrote the record
-- (after value mapping), or as the last successful push wrote it. A
-- push run sends what the CMDB has where it differs from this view, so
-- what to push is a comparison of state, not a watermark. view_at is
-- NULL for rows written before this migration: their view is unknown
-- and the next pull of a push instance writes it.
ALTER TABLE connector_records
    ADD COLUMN view_status   text NOT NULL DEFAULT '',
    ADD COLUMN view_school   text NOT NULL DEFAULT '',
    ADD COLUMN view_building text NOT NULL DEFAULT '',
    ADD COLUMN view_room     text NOT NULL DEFAULT '',
    ADD COLUMN view_serial   text NOT NULL DEFAULT '',
    ADD COLUMN view_macs     text[] NOT NULL DEFAULT '{}',
    ADD COLUMN view_at       timestamptz;

-- The run log counts the changes written back and those the source
-- refused.
ALTER TABLE connector_runs
    ADD COLUMN pushed        int NOT NULL DEFAULT 0,
    ADD COLUMN push_failures int NOT NULL DEFAULT 0;
