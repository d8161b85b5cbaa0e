-- An authority's thresholds of the model-pattern test (cmdb.PatternRule);
-- without a row the default (p < 0.01, 5 incidents on 3 devices) applies.
CREATE TABLE pattern_rules (
    authority_id  bigint PRIMARY KEY REFERENCES authorities (id),
    alpha         double precision NOT NULL CHECK (alpha > 0 AND alpha <= 0.5),
    min_incidents int NOT NULL CHECK (min_incidents BETWEEN 1 AND 10000),
    min_devices   int NOT NULL CHECK (min_devices BETWEEN 1 AND 10000),
    updated_at    timestamptz NOT NULL,
    updated_by    text NOT NULL
);
