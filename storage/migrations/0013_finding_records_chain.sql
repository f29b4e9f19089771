-- One hash chain per writing process ('host:pid'): processes that
-- store findings side by side (ingest's streaming detection, the scheduled pass, the API
-- recording an older finding) each extend their own chain and never race for one position.
ALTER TABLE {{db}}.finding_records ADD COLUMN IF NOT EXISTS chain LowCardinality(String) DEFAULT '' AFTER seq;
