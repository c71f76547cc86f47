-- hop: phase=online
-- Nullable, so the 4.0.1 code that does not know it keeps inserting rows.
ALTER TABLE deployments ADD COLUMN status VARCHAR(20);
