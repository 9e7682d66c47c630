-- effective_status and current_delegate are written out in the queries
-- instead (the EffectiveStatus and CurrentDelegate fragments of
-- queries/workload.sql): a SQL function whose body holds a sub-select is never
-- inlined, so PostgreSQL planned its body again in every statement that called
-- it, 0.3 ms of a 0.4 ms turn batch.
DROP FUNCTION effective_status(text, text);
DROP FUNCTION current_delegate(text);
