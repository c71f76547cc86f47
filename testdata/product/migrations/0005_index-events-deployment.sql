-- hop: phase=offline
CREATE INDEX events_deployment ON events (deployment_id);
