-- hop: phase=offline
CREATE TABLE deployments (
    id INTEGER PRIMARY KEY,
    name VARCHAR(200) NOT NULL,
    created_at VARCHAR(40) NOT NULL
);
