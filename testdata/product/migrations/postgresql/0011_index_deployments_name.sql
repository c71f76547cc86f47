-- hop: phase=online
-- PostgreSQL builds the index without blocking writes.
CREATE INDEX CONCURRENTLY deployments_name ON deployments (name);
