/**
 * The acceptor rules of shared/storage/ports.ts as Redis Lua scripts: each runs atomically on the
 * server, so one script per batch makes every key's read-decide-write one indivisible step and a
 * whole prepare or accept phase one round trip.
 *
 * Layout: each key is a hash {promised, accepted, value} at `<ns>r:<key>`; a missing `value` field
 * is the flag for "value null" (a present one, even "null", is the string). A sorted set `<ns>idx`
 * (every score 0, so members sort byte-wise) indexes the keys for prefix scans.
 */

/**
 * Ballots compare byte-wise. Lua's `<` on strings calls strcoll(), and redis-server sets LC_COLLATE
 * from its environment, so under e.g. en_US.UTF-8 "Z" > "a" and "-" may be ignored: a plain `<`
 * could order proposer ids differently from every other acceptor. This loop cannot.
 */
const PRELUDE = `
local function lt(x, y)
  if x == y then return false end
  local n = math.min(#x, #y)
  for i = 1, n do
    local a, b = string.byte(x, i), string.byte(y, i)
    if a ~= b then return a < b end
  end
  return #x < #y
end
local function maxb(x, y) if lt(x, y) then return y end return x end
`;

/**
 * KEYS: index, then one record hash per key. ARGV: record-key prefix, ballot.
 * Returns per key: ok (1/0), accepted ballot (ok) or conflict (refused), value (ok; nil if none).
 */
export const PREPARE_LUA = `${PRELUDE}
local pre, b = ARGV[1], ARGV[2]
local out = {}
for i = 2, #KEYS do
  local r = redis.call("HMGET", KEYS[i], "promised", "accepted", "value")
  local p, a = r[1] or "", r[2] or ""
  if lt(p, b) and lt(a, b) then
    redis.call("HSET", KEYS[i], "promised", b)
    redis.call("ZADD", KEYS[1], 0, string.sub(KEYS[i], #pre + 1))
    out[#out + 1] = 1; out[#out + 1] = a; out[#out + 1] = r[3]
  else
    out[#out + 1] = 0; out[#out + 1] = maxb(p, a); out[#out + 1] = false
  end
end
return out
`;

/**
 * KEYS: index, then one record hash per entry. ARGV: record-key prefix, then per entry: ballot,
 * next ballot ("" if none), "1"/"0" value present, value ("" when absent).
 * Returns per entry: ok (1/0), conflict ("" when ok).
 * A repeat of the stored accept (same ballot and value: a duplicated delivery) is acknowledged and
 * changes nothing, whatever was promised since (see isStoredAccept in shared/quorum/acceptor.ts).
 */
export const ACCEPT_LUA = `${PRELUDE}
local pre = ARGV[1]
local out = {}
for i = 2, #KEYS do
  local j = (i - 2) * 4 + 2
  local b, nx, has, v = ARGV[j], ARGV[j + 1], ARGV[j + 2], ARGV[j + 3]
  local r = redis.call("HMGET", KEYS[i], "promised", "accepted", "value")
  local p, a = r[1] or "", r[2] or ""
  local same = (has == "1" and r[3] == v) or (has ~= "1" and not r[3])
  if b ~= "" and b == a and same then
    out[#out + 1] = 1; out[#out + 1] = ""
  elseif lt(b, p) or not lt(a, b) then
    out[#out + 1] = 0; out[#out + 1] = maxb(p, a)
  else
    redis.call("HSET", KEYS[i], "promised", maxb(b, nx), "accepted", b)
    if has == "1" then
      redis.call("HSET", KEYS[i], "value", v)
    else
      redis.call("HDEL", KEYS[i], "value")
    end
    redis.call("ZADD", KEYS[1], 0, string.sub(KEYS[i], #pre + 1))
    out[#out + 1] = 1; out[#out + 1] = ""
  end
end
return out
`;

/**
 * KEYS: index, then one record hash per entry. ARGV: record-key prefix, then per entry: accepted
 * ballot, promised ballot. Deletes a record (and its index entry) only if it holds no value, that
 * accepted ballot (not "") and that promise (DeleteEntry in shared/quorum/messages.ts).
 * Returns per entry: 1 when the record is gone (deleted now or absent), 0 when it was kept.
 */
export const DELETE_LUA = `
local pre = ARGV[1]
local out = {}
for i = 2, #KEYS do
  local j = (i - 2) * 2 + 2
  local a, p = ARGV[j], ARGV[j + 1]
  if redis.call("EXISTS", KEYS[i]) == 0 then
    out[#out + 1] = 1
  else
    local r = redis.call("HMGET", KEYS[i], "promised", "accepted", "value")
    if a ~= "" and not r[3] and (r[2] or "") == a and (r[1] or "") == p then
      redis.call("DEL", KEYS[i])
      redis.call("ZREM", KEYS[1], string.sub(KEYS[i], #pre + 1))
      out[#out + 1] = 1
    else
      out[#out + 1] = 0
    end
  end
end
return out
`;

/** KEYS: record hashes. Returns per key: promised, accepted, value (nil if none). */
export const READ_LUA = `
local out = {}
for i = 1, #KEYS do
  local r = redis.call("HMGET", KEYS[i], "promised", "accepted", "value")
  out[#out + 1] = r[1] or ""; out[#out + 1] = r[2] or ""; out[#out + 1] = r[3]
end
return out
`;

/**
 * KEYS: index. ARGV: record-key prefix, lex min ("[x" or "(x"), key prefix, count.
 * Returns per key: key, promised, accepted, value (nil if none).
 * The record hashes it reads are found in the index, so they cannot be declared in KEYS: fine on a
 * single Redis and on Upstash, whose default script lock is the global one.
 */
export const SCAN_LUA = `
local pre, min, prefix = ARGV[1], ARGV[2], ARGV[3]
local max = "+"
if prefix ~= "" then max = "(" .. prefix .. "\\255" end
local ks = redis.call("ZRANGEBYLEX", KEYS[1], min, max, "LIMIT", 0, tonumber(ARGV[4]))
local out = {}
for _, k in ipairs(ks) do
  local r = redis.call("HMGET", pre .. k, "promised", "accepted", "value")
  out[#out + 1] = k; out[#out + 1] = r[1] or ""; out[#out + 1] = r[2] or ""; out[#out + 1] = r[3]
end
return out
`;
