-- hop: phase=online
CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY,
    actor VARCHAR(100) NOT NULL,
    action VARCHAR(200) NOT NULL
);
