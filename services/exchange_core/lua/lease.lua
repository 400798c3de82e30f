-- A partition's lease with a fencing token, and writes fenced by it (exchange_core/lease.py).
-- KEYS[1] lease:{P}:ROLE (value "token:holder", expires after the TTL)
-- KEYS[2] lease:{P}:ROLE:token (the last token granted; only grows)
-- KEYS[3...] every key the fenced commands write (declared for Redis Cluster routing; all in
--            the partition's slot {P})
-- ARGV[1] operation, ARGV[2] holder, ARGV[3] token, ARGV[4] ttl in ms, then for "write" the
-- commands: each as its number of words, then the words (e.g. 3, SET, k, v, 2, DEL, k).
-- The caller holds the lease when KEYS[1] carries its token, or when KEYS[1] has lapsed and no
-- token was granted since (then it is held again, for the TTL, with the same token).
--   acquire  grant a new token (INCR KEYS[2]) when nobody holds the lease
--            -> the token, or 0 when another holder has it
--   renew    extend the lease by the TTL -> 1, or 0 when the caller no longer holds it
--   release  delete the lease -> 1, or 0 when the caller no longer holds it
--   write    run the commands -> their number; an error reply "FENCED ..." (nothing run) when
--            the caller no longer holds the lease
local op, holder, token, ttl = ARGV[1], ARGV[2], ARGV[3], ARGV[4]

local function holds()
  local value = redis.call('GET', KEYS[1])
  if value then
    return string.match(value, '^(%d+):') == token
  end
  if redis.call('GET', KEYS[2]) == token then
    redis.call('SET', KEYS[1], token .. ':' .. holder, 'PX', ttl)
    return true
  end
  return false
end

if op == 'acquire' then
  if redis.call('EXISTS', KEYS[1]) == 1 then
    return 0
  end
  local granted = redis.call('INCR', KEYS[2])
  redis.call('SET', KEYS[1], granted .. ':' .. holder, 'PX', ttl)
  return granted
end

if not holds() then
  if op == 'write' then
    return redis.error_reply('FENCED token ' .. token .. ' no longer holds ' .. KEYS[1])
  end
  return 0
end

if op == 'renew' then
  redis.call('PEXPIRE', KEYS[1], ttl)
  return 1
elseif op == 'release' then
  redis.call('DEL', KEYS[1])
  return 1
elseif op == 'write' then
  local i, n = 5, 0
  while i <= #ARGV do
    local words = tonumber(ARGV[i])
    redis.call(unpack(ARGV, i + 1, i + words))
    i = i + words + 1
    n = n + 1
  end
  return n
end
return redis.error_reply('unknown lease operation ' .. tostring(op))
