-- hop: phase=post batch
UPDATE events SET level = 'info'
WHERE id IN (SELECT id FROM events WHERE level IS NULL ORDER BY id LIMIT 500);
