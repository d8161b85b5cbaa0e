-- A connector's first sync writes each new CI with its identifiers and
-- about ten history rows (one per attribute it set). At 100,000 records
-- most of that time went to checking foreign keys row by row and to an
-- index nobody reads any more:
--
-- * ci_history_ci (ci_id, id DESC) is covered by ci_history_ci_at (0024),
--   which every reader (the device page, /cis/{id}/history, the model
--   pattern's retired dates) uses.
-- * ci_history's reference to cis is checked once per row (a SELECT … FOR
--   KEY SHARE on the CI), which made half the cost of writing history.
--   History is append-only, written only by writeHistory in the
--   transaction that holds the CI, and CIs are never deleted (a duplicate
--   is merged, and its history stays under its own id), so the check
--   guards nothing.
-- * An identifier referenced its CI and its authority separately: two
--   checks per row, and nothing said the two belong together. One
--   reference to (cis.id, cis.authority_id) is one check and says more:
--   an identifier lies in its CI's authority.
DROP INDEX ci_history_ci;
ALTER TABLE ci_history DROP CONSTRAINT ci_history_ci_id_fkey;

ALTER TABLE cis ADD CONSTRAINT cis_id_authority UNIQUE (id, authority_id);
ALTER TABLE ci_identifiers
    DROP CONSTRAINT ci_identifiers_ci_id_fkey,
    DROP CONSTRAINT ci_identifiers_authority_id_fkey,
    ADD CONSTRAINT ci_identifiers_ci FOREIGN KEY (ci_id, authority_id) REFERENCES cis (id, authority_id);
