-- Klines' taker-buy volumes (Binance's "taker buy base/quote asset volume"): the base and quote
-- volumes of the trades whose taker bought (trades.taker_side = 1).
--
-- Plain PostgreSQL computes klines from trades: nothing to do. On TimescaleDB the continuous
-- aggregates of 002_history.sql get two more columns: a continuous aggregate cannot be altered,
-- so each one without them is dropped and made again with them. A new aggregate has nothing
-- materialized and real-time aggregation covers all of it until its policy runs; the policy
-- therefore refreshes from the first trade on (start_offset NULL), which after its first run only
-- recomputes the buckets later inserts invalidated (trades arrive at the present).

DO $$
DECLARE
    kline RECORD;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'timescaledb') THEN
        RETURN;
    END IF;
    FOR kline IN
        SELECT * FROM (VALUES
            ('klines_1m', INTERVAL '1 minute', INTERVAL '1 minute'),
            ('klines_5m', INTERVAL '5 minutes', INTERVAL '5 minutes'),
            ('klines_15m', INTERVAL '15 minutes', INTERVAL '5 minutes'),
            ('klines_1h', INTERVAL '1 hour', INTERVAL '15 minutes'),
            ('klines_4h', INTERVAL '4 hours', INTERVAL '30 minutes'),
            ('klines_1d', INTERVAL '1 day', INTERVAL '1 hour')
        ) AS k (name, width, every)
    LOOP
        IF EXISTS (SELECT 1 FROM information_schema.columns
                   WHERE table_name = kline.name AND column_name = 'taker_volume') THEN
            CONTINUE;
        END IF;
        EXECUTE format('DROP MATERIALIZED VIEW IF EXISTS %I', kline.name);
        EXECUTE format(
            'CREATE MATERIALIZED VIEW %I WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS '
            'SELECT symbol, time_bucket(%L::interval, time) AS bucket, '
            'first(price, id) AS open, max(price) AS high, min(price) AS low, last(price, id) AS close, '
            'sum(qty) AS volume, sum(quote_qty) AS quote_volume, count(*) AS trades, '
            'min(id) AS first_id, max(id) AS last_id, '
            'sum(CASE WHEN taker_side = 1 THEN qty ELSE 0 END) AS taker_volume, '
            'sum(CASE WHEN taker_side = 1 THEN quote_qty ELSE 0 END) AS taker_quote_volume '
            'FROM trades GROUP BY symbol, bucket WITH NO DATA',
            kline.name, kline.width);
        PERFORM add_continuous_aggregate_policy(kline.name::regclass,
            start_offset => NULL, end_offset => kline.width, schedule_interval => kline.every,
            if_not_exists => true);
    END LOOP;
END
$$;
