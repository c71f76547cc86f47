-- hop: phase=online
CREATE INDEX audit_actor ON audit_log (actor);
