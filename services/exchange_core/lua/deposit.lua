-- Credit free funds (sign-up demo funds, admin deposits).
-- KEYS[1] bal:{uid}   ARGV[1] asset  ARGV[2] amount (smallest units, > 0)
-- Returns the new free balance; -2 bad amount.
local amount = tonumber(ARGV[2])
if not amount or amount <= 0 then return -2 end
return redis.call('HINCRBY', KEYS[1], ARGV[1] .. ':free', amount)
