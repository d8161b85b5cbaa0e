-- A school's credential profiles may also hold PJLink projector passwords
-- (version 'pjlink', the password encrypted in secrets_enc like SNMP
-- secrets), tried in order on the school's pjlink targets.

ALTER TABLE snmp_credentials DROP CONSTRAINT snmp_credentials_version_check;
ALTER TABLE snmp_credentials ADD CONSTRAINT snmp_credentials_version_check
    CHECK (version IN ('1', '2c', '3', 'pjlink'));
