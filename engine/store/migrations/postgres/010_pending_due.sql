-- Nothing to change on PostgreSQL; both dialects keep the same list of migrations.
-- On SQLite this migration makes the due index partial (pending jobs only) so a
-- settle on its single writer drops the job's entry instead of moving it; the
-- PostgreSQL indexes are left as they are.
SELECT 1;
