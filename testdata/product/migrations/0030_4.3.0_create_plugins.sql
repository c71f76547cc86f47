-- hop: phase=online
CREATE TABLE plugins (
    id INTEGER PRIMARY KEY,
    name VARCHAR(100) NOT NULL,
    version VARCHAR(20)
);
