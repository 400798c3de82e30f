-- Apply one user's share of a market's events, exactly once per (user, symbol).
-- KEYS[1] bal:{uid}  KEYS[2] resv:{uid}  KEYS[3] ord:{uid}  KEYS[4] open:{uid}
-- KEYS[5] coid:{uid}  KEYS[6] utr:{uid}:SYM  KEYS[7] uord:{uid}:SYM
-- KEYS[8] olist:{uid}  KEYS[9] olopen:{uid}  KEYS[10] olcid:{uid}  KEYS[11] olall:{uid}
-- KEYS[12] upm:{uid}:SYM
-- ARGV[1] symbol, ARGV[2] the settling worker's fencing token for the symbol (its settlement
-- lease, exchange_core/lease.py; 0 without one), then one argument per operation: its values
-- joined by newlines, "seq\nkind\n..." with the kind's fields in the order below (its last
-- field is the rest of the argument, whatever it holds; the others hold no newline: numbers,
-- balance and reservation fields, JSON text). See exchange_core.ledger.encode_op.
-- The highest token that settled the symbol for this user is kept in bal:{uid} field
-- "fence:SYM": a lower one is refused with an error reply "FENCED ..." and nothing is applied,
-- so a worker whose lease passed to another cannot write after its successor did.
-- An operation whose seq is not above the user's last applied seq for the symbol is skipped
-- (a redelivered event); the last applied seq is kept in bal:{uid} field "seq:SYM".
--   B field delta              balance field ("USDT:locked") += delta
--   C resv_field asset         reservation confirmed by the engine (no longer an orphan); the
--                              asset it locked (may be '') is reported as touched
--   X resv_field               reservation finished (released with its order)
--   O order_id open json cid   order state; open=1 keeps it in the open set; cid (may be '')
--                              claims that client order id for it
--   T trade_id json            one of the user's trades
--   R resv_field amount        a rejected order list gives back `amount` of its reservation
--                              (the asset the reservation names) and the reservation finishes;
--                              nothing when the reservation is gone (the sweeper released it)
--   L list_id open json t:lcid order list state (its transaction time and list client order
--                              id); open=1 keeps it in the open lists
--   P id keep json             prevented match `id` (self-trade prevention): its record replaces
--                              any with that id; only the newest `keep` are kept
-- Returns {applied, asset, free, locked, ...}: the number of operations applied, then the
-- balances of every asset an applied B or C operation touched.
local symbol = ARGV[1]
local token = tonumber(ARGV[2])
local fence_field = 'fence:' .. symbol
local fence = tonumber(redis.call('HGET', KEYS[1], fence_field) or '0')
if token < fence then
  return redis.error_reply('FENCED token ' .. ARGV[2] .. ' below ' .. fence .. ' for ' .. symbol)
end
if token > fence then redis.call('HSET', KEYS[1], fence_field, token) end
local seq_field = 'seq:' .. symbol
local last = tonumber(redis.call('HGET', KEYS[1], seq_field) or '0')
local applied, top = 0, last
local touched, assets = {}, {}
local function touch(asset)
  if asset and asset ~= '' and not touched[asset] then
    touched[asset] = true
    assets[#assets + 1] = asset
  end
end
local find, sub = string.find, string.sub
-- The first n fields of operation `op` from position `at` (the last one: the rest of it).
local function fields(op, at, n)
  if n == 1 then return sub(op, at) end
  local e = find(op, '\n', at, true)
  return sub(op, at, e - 1), fields(op, e + 1, n - 1)
end
local WIDTH = {B = 2, C = 2, X = 1, O = 4, T = 2, R = 2, L = 4, P = 3}
for i = 3, #ARGV do
  local op = ARGV[i]
  local cut = find(op, '\n', 1, true)
  local seq = tonumber(sub(op, 1, cut - 1))
  if seq > last then
    local kind = sub(op, cut + 1, cut + 1)
    local a, b, c, d = fields(op, cut + 3, WIDTH[kind] or 1)
    if kind == 'B' then
      redis.call('HINCRBY', KEYS[1], a, b)
      touch(string.match(a, '^([^:]+):'))
    elseif kind == 'C' then
      local value = redis.call('HGET', KEYS[2], a)
      if value then
        redis.call('HSET', KEYS[2], a, (string.gsub(value, ':pending$', ':active')))
      end
      touch(b)
    elseif kind == 'X' then
      redis.call('HDEL', KEYS[2], a)
    elseif kind == 'O' then
      local field = symbol .. ':' .. a
      redis.call('HSET', KEYS[3], field, c)
      redis.call('ZADD', KEYS[7], tonumber(a), a)
      if b == '1' then
        redis.call('SADD', KEYS[4], field)
      else
        redis.call('SREM', KEYS[4], field)
      end
      if d ~= '' then
        redis.call('HSET', KEYS[5], symbol .. ':' .. d, a)
      end
    elseif kind == 'T' then
      redis.call('ZADD', KEYS[6], tonumber(a), b)
    elseif kind == 'R' then
      local value = redis.call('HGET', KEYS[2], a)
      if value then
        local asset = string.match(value, '^([^:]+):')
        redis.call('HINCRBY', KEYS[1], asset .. ':locked', -tonumber(b))
        redis.call('HINCRBY', KEYS[1], asset .. ':free', tonumber(b))
        redis.call('HDEL', KEYS[2], a)
        touch(asset)
      end
    elseif kind == 'L' then
      local field = symbol .. ':' .. a
      local at, lcid = string.match(d, '^(%d+):(.*)$')
      redis.call('HSET', KEYS[8], field, c)
      redis.call('ZADD', KEYS[11], tonumber(at), field)
      if b == '1' then
        redis.call('SADD', KEYS[9], field)
      else
        redis.call('SREM', KEYS[9], field)
      end
      if lcid ~= '' then redis.call('HSET', KEYS[10], lcid, field) end
    elseif kind == 'P' then
      redis.call('ZREMRANGEBYSCORE', KEYS[12], a, a)
      redis.call('ZADD', KEYS[12], tonumber(a), c)
      redis.call('ZREMRANGEBYRANK', KEYS[12], 0, -tonumber(b) - 1)
    end
    applied = applied + 1
    if seq > top then top = seq end
  end
end
if top > last then redis.call('HSET', KEYS[1], seq_field, top) end
local out = {applied}
for _, asset in ipairs(assets) do
  local values = redis.call('HMGET', KEYS[1], asset .. ':free', asset .. ':locked')
  out[#out + 1] = asset
  out[#out + 1] = values[1] or '0'
  out[#out + 1] = values[2] or '0'
end
return out
