-- The due index holds pending jobs only. jobs_status_next_at indexed every job by
-- (status, next_at, id), so settling a delivery moved its entry from the pending
-- range into the delivered one, an insert into the middle of the index (a page
-- split, not an append) on the single writer for every delivery. Only pending
-- jobs are ever looked up by due time (Claim, NextDue, Stats' due count), so the
-- partial index drops a delivered or failed job's entry instead, and stays as
-- small as the work still to do. Queries must say status = 'pending' to use it.
CREATE INDEX jobs_pending_next_at ON jobs (next_at, id) WHERE status = 'pending';
DROP INDEX jobs_status_next_at;
