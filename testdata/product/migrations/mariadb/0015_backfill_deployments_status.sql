-- hop: phase=post batch
-- MariaDB cannot LIMIT inside IN (...); it can LIMIT the UPDATE itself.
UPDATE deployments SET status = 'active'
WHERE status IS NULL ORDER BY id LIMIT 500;
