-- hop: phase=offline
CREATE TABLE events (
    id INTEGER PRIMARY KEY,
    deployment_id INTEGER NOT NULL,
    message VARCHAR(500) NOT NULL
);
