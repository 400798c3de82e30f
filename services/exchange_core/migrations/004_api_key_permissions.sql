-- API key permissions (as Binance's key settings): spot trading on or off (reading is always on),
-- and the trusted client IPs (canonical address strings; empty: any IP). Existing keys keep
-- trading from any IP.
ALTER TABLE api_keys ADD COLUMN IF NOT EXISTS can_trade BOOLEAN NOT NULL DEFAULT TRUE;
ALTER TABLE api_keys ADD COLUMN IF NOT EXISTS allowed_ips TEXT[] NOT NULL DEFAULT '{}';
