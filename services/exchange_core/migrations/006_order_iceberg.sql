-- Iceberg orders in the order history: the visible part of the order as placed (base units).
-- 0 for orders that are not icebergs (every row written before this migration).
ALTER TABLE orders ADD COLUMN IF NOT EXISTS iceberg_qty BIGINT NOT NULL DEFAULT 0;
