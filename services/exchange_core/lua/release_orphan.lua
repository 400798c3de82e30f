-- Release a reservation whose command never reached the engine (found by the sweeper).
-- KEYS[1] bal:{uid}   KEYS[2] resv:{uid}   ARGV[1] reservation field "SYM:orderId"
-- Returns the amount released; 0 when the reservation is gone or confirmed by the engine.
local value = redis.call('HGET', KEYS[2], ARGV[1])
if not value then return 0 end
local asset, amount, created, state = string.match(value, '^([^:]+):(%d+):(%d+):(%a+)$')
if state ~= 'pending' then return 0 end
redis.call('HINCRBY', KEYS[1], asset .. ':locked', -tonumber(amount))
redis.call('HINCRBY', KEYS[1], asset .. ':free', tonumber(amount))
redis.call('HDEL', KEYS[2], ARGV[1])
return tonumber(amount)
