-- hop: phase=post
-- Contract: once every node runs 4.2.0 (whose queries use the new index).
DROP INDEX events_deployment;
CREATE INDEX events_deployment_level ON events (deployment_id, level);
