-- Reserve funds for an order: free -> locked, recorded against the order, and claim its
-- client order id so that a resubmission never makes a second order.
-- KEYS[1] bal:{uid}  KEYS[2] resv:{uid}  KEYS[3] coid:{uid}  KEYS[4] open:{uid}
-- ARGV[1] asset  ARGV[2] amount (smallest units)  ARGV[3] reservation field "SYM:orderId"
-- ARGV[4] now ms  ARGV[5] client id field "SYM:clientOrderId"  ARGV[6] order id
-- ARGV[7] ms during which a finished order's client id still counts as a duplicate
-- ARGV[8] (optional) MAX_NUM_ORDERS: the most open orders the user may have in the market
--   (members "SYM:orderId" of KEYS[4]) for this one to be placed; absent or 0: not checked
-- KEYS[5], ARGV[9] (optional, one Redis only: KEYS[5] is in the market's slot) the market's
--   journal cmd:{SYM} and the order's encoded command, appended (field "c") once reserved: the
--   command reaches the engine in the same step as its reservation
-- KEYS[6], ARGV[10] (with KEYS[5]) the market's index of pending reservations and this one's
--   member "uid:SYM:orderId", added (score: ARGV[4]) once reserved
-- Returns 1 reserved; -1 insufficient funds; -2 bad amount; -3 reservation exists;
-- -4 client order id of an open or recent order; -5 MAX_NUM_ORDERS reached, checked first.
local amount = tonumber(ARGV[2])
if not amount or amount < 0 then return -2 end
local max_orders = tonumber(ARGV[8] or '0')
if max_orders > 0 and redis.call('SCARD', KEYS[4]) >= max_orders then
  local prefix = string.match(ARGV[3], '^([^:]+:)')
  local n = 0
  for _, member in ipairs(redis.call('SMEMBERS', KEYS[4])) do
    if string.sub(member, 1, #prefix) == prefix then n = n + 1 end
  end
  if n >= max_orders then return -5 end
end
if redis.call('HEXISTS', KEYS[2], ARGV[3]) == 1 then return -3 end
local claim = redis.call('HGET', KEYS[3], ARGV[5])
if claim then
  local oid, at = string.match(claim, '^(%d+):(%d+)$')
  local symbol = string.match(ARGV[5], '^([^:]+):')
  if redis.call('SISMEMBER', KEYS[4], symbol .. ':' .. oid) == 1 then return -4 end
  if tonumber(ARGV[4]) - tonumber(at) < tonumber(ARGV[7]) then return -4 end
end
local free = tonumber(redis.call('HGET', KEYS[1], ARGV[1] .. ':free') or '0')
if free < amount then return -1 end
redis.call('HINCRBY', KEYS[1], ARGV[1] .. ':free', -amount)
redis.call('HINCRBY', KEYS[1], ARGV[1] .. ':locked', amount)
redis.call('HSET', KEYS[2], ARGV[3], ARGV[1] .. ':' .. ARGV[2] .. ':' .. ARGV[4] .. ':pending')
redis.call('HSET', KEYS[3], ARGV[5], ARGV[6] .. ':' .. ARGV[4])
if KEYS[6] then
  redis.call('ZADD', KEYS[6], ARGV[4], ARGV[10])
end
if KEYS[5] then
  redis.call('XADD', KEYS[5], '*', 'c', ARGV[9])
end
return 1
