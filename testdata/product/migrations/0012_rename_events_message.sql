-- hop: phase=offline
-- 4.0.1 reads events.message: renaming needs the downtime window.
ALTER TABLE events RENAME COLUMN message TO text;
