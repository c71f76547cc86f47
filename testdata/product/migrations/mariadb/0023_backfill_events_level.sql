-- hop: phase=post batch
UPDATE events SET level = 'info'
WHERE level IS NULL ORDER BY id LIMIT 500;
