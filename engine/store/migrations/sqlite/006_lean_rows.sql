-- Lean rows: the last attempt of a job lives in its jobs row (last_status_code,
-- last_error and last_attempt_at already did; now its duration and the start of its
-- response too), so a delivery that succeeds at its first attempt writes no
-- job_attempts row. An attempt moves to job_attempts when the next one is recorded.
-- Rows written before keep every attempt in job_attempts, the last one included;
-- readers take the jobs row's last attempt only when job_attempts lacks it.
ALTER TABLE jobs ADD COLUMN last_duration_us INTEGER NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN last_response BLOB NOT NULL DEFAULT x'';
