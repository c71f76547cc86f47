-- hop: phase=online
-- PostgreSQL builds the index without blocking writes.
CREATE INDEX CONCURRENTLY audit_actor ON audit_log (actor);
