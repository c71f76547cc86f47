-- hop: phase=online
ALTER TABLE events ADD COLUMN level VARCHAR(10);
