-- hop: phase=post
INSERT INTO plugins (id, name, version) VALUES (1, 'openstack', '4.3.0');
