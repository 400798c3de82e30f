-- Apply users' shares of a market's events, exactly once per (user, symbol): one or several
-- users per call (several only on one Redis: their keys are in many slots on a cluster).
-- Per user, 12 keys, the users' keys concatenated (user u's key j is KEYS[12 * (u - 1) + j]):
-- KEYS[1] bal:{uid}  KEYS[2] resv:{uid}  KEYS[3] ord:{uid}  KEYS[4] open:{uid}
-- KEYS[5] coid:{uid}  KEYS[6] utr:{uid}:SYM  KEYS[7] uord:{uid}:SYM
-- KEYS[8] olist:{uid}  KEYS[9] olopen:{uid}  KEYS[10] olcid:{uid}  KEYS[11] olall:{uid}
-- KEYS[12] upm:{uid}:SYM
-- ARGV[1] symbol, ARGV[2] the settling worker's fencing token for the symbol (its settlement
-- lease, exchange_core/lease.py; 0 without one), then per user (in the order of KEYS) its number
-- of operations followed by one argument per operation: its values
-- joined by newlines, "seq\nkind\n..." with the kind's fields in the order below (its last
-- field is the rest of the argument, whatever it holds; the others hold no newline: numbers,
-- balance and reservation fields, JSON text). See exchange_core.ledger.encode_op.
-- The highest token that settled the symbol for this user is kept in bal:{uid} field
-- "fence:SYM": a lower one is refused with an error reply "FENCED ..." and nothing is applied
-- (for no user of the call: every user's fence is checked before anything is written), so a worker whose lease passed to another cannot write after its successor did.
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
-- Returns one reply per user, in order: {applied, asset, free, locked, ...}: the number of the
-- user's operations applied, then the balances of every asset an applied B or C operation touched.
local symbol = ARGV[1]
local token = tonumber(ARGV[2])
local fence_field, seq_field = 'fence:' .. symbol, 'seq:' .. symbol
local users = #KEYS / 12
local find, sub, hmget, call = string.find, string.sub, 'HMGET', redis.call
-- Every user's fence and last applied seq first: refuse the whole call before writing anything.
local fences, lasts = {}, {}
for u = 1, users do
  local bal = KEYS[12 * (u - 1) + 1]
  local values = call(hmget, bal, fence_field, seq_field)
  local fence = tonumber(values[1] or '0')
  if token < fence then
    return redis.error_reply('FENCED token ' .. ARGV[2] .. ' below ' .. fence .. ' for ' .. symbol)
  end
  fences[u], lasts[u] = fence, tonumber(values[2] or '0')
end
-- The first n fields of operation `op` from position `at` (the last one: the rest of it).
local function fields(op, at, n)
  if n == 1 then return sub(op, at) end
  local e = find(op, '\n', at, true)
  return sub(op, at, e - 1), fields(op, e + 1, n - 1)
end
local WIDTH = {B = 2, C = 2, X = 1, O = 4, T = 2, R = 2, L = 4, P = 3}
local replies = {}
local i = 3
for u = 1, users do
  local base = 12 * (u - 1)
  local K1, K2, K3, K4 = KEYS[base + 1], KEYS[base + 2], KEYS[base + 3], KEYS[base + 4]
  local count = tonumber(ARGV[i])
  local first, stop = i + 1, i + count
  i = stop + 1
  if token > fences[u] then call('HSET', K1, fence_field, token) end
  local last = lasts[u]
  local applied, top = 0, last
  local touched, assets = {}, {}
  local function touch(asset)
    if asset and asset ~= '' and not touched[asset] then
      touched[asset] = true
      assets[#assets + 1] = asset
    end
  end
  for j = first, stop do
    local op = ARGV[j]
    local cut = find(op, '\n', 1, true)
    local seq = tonumber(sub(op, 1, cut - 1))
    if seq > last then
      local kind = sub(op, cut + 1, cut + 1)
      local a, b, c, d = fields(op, cut + 3, WIDTH[kind] or 1)
      if kind == 'B' then
        call('HINCRBY', K1, a, b)
        touch(string.match(a, '^([^:]+):'))
      elseif kind == 'C' then
        local value = call('HGET', K2, a)
        if value then
          call('HSET', K2, a, (string.gsub(value, ':pending$', ':active')))
        end
        touch(b)
      elseif kind == 'X' then
        call('HDEL', K2, a)
      elseif kind == 'O' then
        local field = symbol .. ':' .. a
        call('HSET', K3, field, c)
        call('ZADD', KEYS[base + 7], tonumber(a), a)
        if b == '1' then
          call('SADD', K4, field)
        else
          call('SREM', K4, field)
        end
        if d ~= '' then
          call('HSET', KEYS[base + 5], symbol .. ':' .. d, a)
        end
      elseif kind == 'T' then
        call('ZADD', KEYS[base + 6], tonumber(a), b)
      elseif kind == 'R' then
        local value = call('HGET', K2, a)
        if value then
          local asset = string.match(value, '^([^:]+):')
          call('HINCRBY', K1, asset .. ':locked', -tonumber(b))
          call('HINCRBY', K1, asset .. ':free', tonumber(b))
          call('HDEL', K2, a)
          touch(asset)
        end
      elseif kind == 'L' then
        local field = symbol .. ':' .. a
        local at, lcid = string.match(d, '^(%d+):(.*)$')
        call('HSET', KEYS[base + 8], field, c)
        call('ZADD', KEYS[base + 11], tonumber(at), field)
        if b == '1' then
          call('SADD', KEYS[base + 9], field)
        else
          call('SREM', KEYS[base + 9], field)
        end
        if lcid ~= '' then call('HSET', KEYS[base + 10], lcid, field) end
      elseif kind == 'P' then
        local upm = KEYS[base + 12]
        call('ZREMRANGEBYSCORE', upm, a, a)
        call('ZADD', upm, tonumber(a), c)
        call('ZREMRANGEBYRANK', upm, 0, -tonumber(b) - 1)
      end
      applied = applied + 1
      if seq > top then top = seq end
    end
  end
  if top > last then call('HSET', K1, seq_field, top) end
  local out = {applied}
  if #assets > 0 then
    local wanted = {}
    for n, asset in ipairs(assets) do
      wanted[2 * n - 1], wanted[2 * n] = asset .. ':free', asset .. ':locked'
    end
    local values = call(hmget, K1, unpack(wanted))
    for n, asset in ipairs(assets) do
      out[#out + 1] = asset
      out[#out + 1] = values[2 * n - 1] or '0'
      out[#out + 1] = values[2 * n] or '0'
    end
  end
  replies[u] = out
end
return replies
