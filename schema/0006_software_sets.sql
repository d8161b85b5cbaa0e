-- Each CI's installed software also as one sorted array of catalogue ids,
-- so that an agent's software report is compared with one row instead of
-- hundreds. ci_software stays the table to query ("which devices have
-- package X"); both are written together.
CREATE TABLE ci_software_sets (
    ci_id        bigint PRIMARY KEY REFERENCES cis (id),
    software_ids bigint[] NOT NULL
);

INSERT INTO ci_software_sets (ci_id, software_ids)
SELECT ci_id, array_agg(software_id ORDER BY software_id) FROM ci_software GROUP BY ci_id;
