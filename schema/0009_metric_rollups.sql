-- Retention of the metric time series: raw values (ci_metrics) are kept for
-- a limited time; hourly and daily aggregates of them for longer. The
-- rollup job (postgres.DB.RollupMetrics) fills the aggregates for every
-- complete hour and day (UTC) and then deletes what is past retention.

-- The rollup and the deletion walk the raw table by time.
CREATE INDEX ci_metrics_at ON ci_metrics (at);

-- One row per CI, metric name and hour (bucket = start of the hour, UTC).
CREATE TABLE ci_metrics_hourly (
    ci_id  bigint NOT NULL REFERENCES cis (id),
    name   text NOT NULL,
    bucket timestamptz NOT NULL,
    min    double precision NOT NULL,
    max    double precision NOT NULL,
    avg    double precision NOT NULL,
    last   double precision NOT NULL,
    count  integer NOT NULL CHECK (count > 0),
    PRIMARY KEY (ci_id, name, bucket)
);
CREATE INDEX ci_metrics_hourly_bucket ON ci_metrics_hourly (bucket);

-- One row per CI, metric name and day (bucket = midnight UTC).
CREATE TABLE ci_metrics_daily (
    ci_id  bigint NOT NULL REFERENCES cis (id),
    name   text NOT NULL,
    bucket timestamptz NOT NULL,
    min    double precision NOT NULL,
    max    double precision NOT NULL,
    avg    double precision NOT NULL,
    last   double precision NOT NULL,
    count  integer NOT NULL CHECK (count > 0),
    PRIMARY KEY (ci_id, name, bucket)
);
CREATE INDEX ci_metrics_daily_bucket ON ci_metrics_daily (bucket);

-- How far the rollup got: every hour before hourly_done has its hourly
-- aggregates, every day before daily_done its daily ones. Raw values are
-- only deleted before hourly_done, hourly ones only before daily_done, so
-- an interrupted run repeats work instead of losing it.
CREATE TABLE metric_rollup_state (
    id          boolean PRIMARY KEY DEFAULT true CHECK (id),
    hourly_done timestamptz NOT NULL,
    daily_done  timestamptz NOT NULL
);
