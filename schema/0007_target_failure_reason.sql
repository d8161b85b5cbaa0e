-- Why the latest failed poll of a target failed (timeout,
-- wrong_credentials, refused, network, protocol, no_printer_mib,
-- credentials_unreadable, other; see cmdb.PollFailure) and when. Kept
-- after the device answers again: last_ok_at later than last_error_at
-- says it recovered.
ALTER TABLE snmp_targets
    ADD COLUMN last_error_reason text NOT NULL DEFAULT '',
    ADD COLUMN last_error_at     timestamptz;
