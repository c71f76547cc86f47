-- hop: phase=online
-- The cluster edition cannot rename while 4.0.1 nodes still read
-- events.message: 4.1.1 writes both columns, a later release drops message.
ALTER TABLE events ADD COLUMN text VARCHAR(500);
