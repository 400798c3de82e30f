-- Stop orders in the order history: the stop (trigger) price and the trailing delta of the order
-- as placed. 0 for orders without them (every row written before this migration).
ALTER TABLE orders ADD COLUMN IF NOT EXISTS stop_price BIGINT NOT NULL DEFAULT 0;
ALTER TABLE orders ADD COLUMN IF NOT EXISTS trailing_delta INTEGER NOT NULL DEFAULT 0;
