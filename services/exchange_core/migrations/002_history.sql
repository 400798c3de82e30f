-- Market history written by the DB processor (services/dbwriter) and read by
-- exchange_core.marketdb: every trade, and every order's current or final state.
--
-- Amounts are integers in smallest units (prices: quote units per whole base unit; quantities:
-- base units), as on the wire (int64). Times are timestamptz from the events' ts (ms).
-- Idempotency: a trade is unique on (symbol, time, seq); an order row on
-- (symbol, order_id, created_at) and only ever moves to a higher seq. On TimescaleDB both are
-- hypertables, so every unique key includes the time column.
--
-- The same script runs on plain PostgreSQL (plain tables, klines computed with date_bin) and on
-- TimescaleDB (hypertables, continuous aggregates with refresh policies, compression policies).

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb')
       AND NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'timescaledb') THEN
        BEGIN
            CREATE EXTENSION timescaledb;
        EXCEPTION WHEN OTHERS THEN
            -- e.g. installed but not in shared_preload_libraries: fall back to plain tables.
            RAISE WARNING 'timescaledb is available but could not be created (%): plain tables', SQLERRM;
        END;
    END IF;
END
$$;

CREATE TABLE IF NOT EXISTS trades (
    symbol TEXT NOT NULL,
    id BIGINT NOT NULL,               -- the engine's trade id, increasing per symbol
    time TIMESTAMPTZ NOT NULL,
    price BIGINT NOT NULL,
    qty BIGINT NOT NULL,
    quote_qty BIGINT NOT NULL,        -- exact: price * qty / 10**base_decimals
    taker_side SMALLINT NOT NULL,     -- matching.Side: 1 BUY, 2 SELL
    maker_order_id BIGINT NOT NULL,
    taker_order_id BIGINT NOT NULL,
    maker_user_id BIGINT NOT NULL,
    taker_user_id BIGINT NOT NULL,
    maker_fee BIGINT NOT NULL,        -- the buyer's fee in base units, the seller's in quote units
    taker_fee BIGINT NOT NULL,
    seq BIGINT NOT NULL,              -- the market's event sequence number
    -- Idempotency (a redelivered trade conflicts) and time-range scans (klines, tickers).
    CONSTRAINT trades_symbol_time_seq UNIQUE (symbol, time, seq)
);
CREATE INDEX IF NOT EXISTS trades_symbol_id ON trades (symbol, id);

CREATE TABLE IF NOT EXISTS orders (
    symbol TEXT NOT NULL,
    order_id BIGINT NOT NULL,
    user_id BIGINT NOT NULL,
    client_order_id TEXT NOT NULL,
    side SMALLINT NOT NULL,           -- matching.Side
    type SMALLINT NOT NULL,           -- matching.OrderType
    time_in_force SMALLINT NOT NULL,  -- matching.TimeInForce
    price BIGINT NOT NULL,            -- 0 for a market order
    qty BIGINT NOT NULL,              -- 0 for a market order by quote amount
    quote_qty BIGINT NOT NULL,
    status SMALLINT NOT NULL,         -- matching.OrderStatus
    executed_qty BIGINT NOT NULL,
    cumulative_quote_qty BIGINT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    seq BIGINT NOT NULL,              -- the seq of the last event reflected in this row
    -- Idempotency, and the writer's updates of orders accepted in an earlier batch.
    CONSTRAINT orders_symbol_order UNIQUE (symbol, order_id, created_at)
);
-- No index by user yet: account history is served from Redis (settlement), and every index
-- here costs the writer; a reader of orders by user adds (user_id, symbol, order_id).

DO $$
DECLARE
    kline RECORD;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'timescaledb') THEN
        RETURN;
    END IF;
    PERFORM create_hypertable('trades', 'time', chunk_time_interval => INTERVAL '1 day',
                              create_default_indexes => false, if_not_exists => true);
    PERFORM create_hypertable('orders', 'created_at', chunk_time_interval => INTERVAL '7 days',
                              create_default_indexes => false, if_not_exists => true);

    -- One continuous aggregate per stored kline interval, each straight from trades. Real-time
    -- aggregation (materialized_only = false) adds what the policy has not materialized yet.
    FOR kline IN
        SELECT * FROM (VALUES
            ('klines_1m', INTERVAL '1 minute', INTERVAL '1 hour', INTERVAL '1 minute'),
            ('klines_5m', INTERVAL '5 minutes', INTERVAL '3 hours', INTERVAL '5 minutes'),
            ('klines_15m', INTERVAL '15 minutes', INTERVAL '6 hours', INTERVAL '5 minutes'),
            ('klines_1h', INTERVAL '1 hour', INTERVAL '1 day', INTERVAL '15 minutes'),
            ('klines_4h', INTERVAL '4 hours', INTERVAL '2 days', INTERVAL '30 minutes'),
            ('klines_1d', INTERVAL '1 day', INTERVAL '7 days', INTERVAL '1 hour')
        ) AS k (name, width, lookback, every)
    LOOP
        IF to_regclass(kline.name) IS NOT NULL THEN
            CONTINUE;
        END IF;
        EXECUTE format(
            'CREATE MATERIALIZED VIEW %I WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS '
            'SELECT symbol, time_bucket(%L::interval, time) AS bucket, '
            'first(price, id) AS open, max(price) AS high, min(price) AS low, last(price, id) AS close, '
            'sum(qty) AS volume, sum(quote_qty) AS quote_volume, count(*) AS trades, '
            'min(id) AS first_id, max(id) AS last_id '
            'FROM trades GROUP BY symbol, bucket WITH NO DATA',
            kline.name, kline.width);
        PERFORM add_continuous_aggregate_policy(kline.name::regclass,
            start_offset => kline.lookback, end_offset => kline.width, schedule_interval => kline.every,
            if_not_exists => true);
    END LOOP;

    -- Old chunks are compressed by symbol; nothing rewrites trades, and order rows touched
    -- after compression (orders resting for weeks) are still updatable.
    ALTER TABLE trades SET (timescaledb.compress, timescaledb.compress_segmentby = 'symbol',
                            timescaledb.compress_orderby = 'time DESC, id DESC');
    PERFORM add_compression_policy('trades', INTERVAL '7 days', if_not_exists => true);
    ALTER TABLE orders SET (timescaledb.compress, timescaledb.compress_segmentby = 'symbol',
                            timescaledb.compress_orderby = 'created_at DESC, order_id DESC');
    PERFORM add_compression_policy('orders', INTERVAL '30 days', if_not_exists => true);
END
$$;
