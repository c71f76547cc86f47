-- hop: phase=offline
CREATE INDEX audit_actor ON audit_log (actor);
