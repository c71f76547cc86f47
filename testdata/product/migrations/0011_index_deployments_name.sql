-- hop: phase=online
CREATE INDEX deployments_name ON deployments (name);
