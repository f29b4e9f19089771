-- Per-identity tool transitions, the counts behind chain.rare_transition's sequence model: how
-- often an identity called `tool` right after `prev1`, itself right after `prev2`, in the same
-- session ('^' where the session had no earlier event: model/transitions.ts), on the day of
-- the `tool` event. Like baseline_terms they outlive the raw `actions` TTL, and the day grain
-- lets a reader take "history before day D" exactly.
-- Not a materialized view: a transition needs the session's earlier events, which an insert
-- block does not hold (a session spans many ingest batches and may cross midnight). Complete
-- days are folded from `actions` instead (storage/transitions.ts), one insert per day; events
-- without a session form no transitions.
CREATE TABLE IF NOT EXISTS {{db}}.baseline_transitions
(
    identity_id String,
    prev2       LowCardinality(String),
    prev1       LowCardinality(String),
    tool        LowCardinality(String),
    day         Date,
    events      SimpleAggregateFunction(sum, UInt64)
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(day)
-- prev1 before prev2: a model reads an identity's successors of one tool together.
ORDER BY (identity_id, prev1, prev2, tool, day)
-- A day is inserted with a token derived from the day: a fold retried after a crash between
-- its insert and its watermark writes the day once. The token needs a window on a
-- non-replicated table.
SETTINGS non_replicated_deduplication_window = 10000;

-- The fold's watermark: a day is recorded only after its rows were inserted, so the last
-- recorded day is the last complete one. Readers take folded rows up to it and compute later
-- days live from `actions`.
CREATE TABLE IF NOT EXISTS {{db}}.baseline_transitions_folded
(
    day       Date,
    folded_at DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree(folded_at)
ORDER BY day;
