-- hop: phase=offline
DROP INDEX events_deployment;
CREATE INDEX events_deployment_level ON events (deployment_id, level);
