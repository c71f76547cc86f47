-- hop: phase=post batch
-- Runs until it changes no row; each run marks at most 500 deployments.
UPDATE deployments SET status = 'active'
WHERE id IN (SELECT id FROM deployments WHERE status IS NULL ORDER BY id LIMIT 500);
