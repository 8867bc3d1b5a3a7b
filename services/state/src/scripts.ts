/**
 * The Lua scripts of the state service. Each runs atomically in Redis: it checks everything
 * first and writes only when every check passed, so a rejected call writes nothing.
 *
 * A call inside a script costs several times a plain command, so they make few: a commit of n
 * shards is one HMGET of ownership, per shard one HGET per watermark (to keep it monotonic) and
 * one HSET, and an HSET of ownership only where it changed. (Measured alternatives: a `ZADD GT`
 * sorted set of all watermarks costs more than the per-shard HGETs it saves.)
 *
 * KEYS (see keys.ts): [1] the deployment marker, [2] the owners hash, [2+i] the hash of the
 * call's i-th shard (commit and drop derive shard keys from their prefix instead). Replies are arrays whose first element is a status: OK, NOT_FOUND, or FENCED
 * followed by the shard, the stored epoch and the stored owner.
 *
 * The fencing rule is `isAllowed` of @espmesh/state-client: a newer epoch always wins; at the
 * same epoch only the stored owner may commit, and acquire/release also accept a released shard.
 */

/** Shared Lua helpers. Variadic calls go in chunks of 1000 arguments (Lua's unpack limit). */
const prelude = `
local function chunked(command, key, list, from, to)
  while from <= to do
    local last = math.min(from + 999, to)
    redis.call(command, key, unpack(list, from, last))
    from = last + 1
  end
end

local function collect(command, key, list, from, to)
  local out = {}
  while from <= to do
    local last = math.min(from + 999, to)
    local part = redis.call(command, key, unpack(list, from, last))
    for j = 1, #part do out[#out + 1] = part[j] end
    from = last + 1
  end
  return out
end

local function slice(list, from, to)
  local out = {}
  for i = from, to do out[#out + 1] = list[i] end
  return out
end

local function check(stored, ids, owner, epoch, releasedOk)
  for i = 1, #stored do
    local value = stored[i]
    if value then
      local at = string.find(value, ':', 1, true)
      local storedText = string.sub(value, 1, at - 1)
      local storedEpoch = tonumber(storedText)
      local storedOwner = string.sub(value, at + 1)
      local allowed = epoch > storedEpoch or (epoch == storedEpoch and
        (storedOwner == owner or (releasedOk and storedOwner == '')))
      if not allowed then return {'FENCED', ids[i], storedText, storedOwner} end
    end
  end
  return nil
end

-- Per shard: {ownership, flat HGETALL of its hash}.
local function readShards(ownership)
  local out = {'OK'}
  for i = 1, #ownership do
    out[i + 1] = {ownership[i] or '', redis.call('HGETALL', KEYS[2 + i])}
  end
  return out
end
`;

/**
 * ARGV: owner, epoch, shard numbers. Records owner and epoch per shard, makes the deployment
 * known, returns the checkpoints.
 */
export const acquireScript = `${prelude}
local owner, epochText = ARGV[1], ARGV[2]
local ids = slice(ARGV, 3, #ARGV)
local n = #ids
local fenced = check(collect('HMGET', KEYS[2], ids, 1, n), ids, owner, tonumber(epochText), true)
if fenced then return fenced end
redis.call('SET', KEYS[1], '1')
local value = epochText .. ':' .. owner
local fields, ownership = {}, {}
for i = 1, n do
  fields[2 * i - 1] = ids[i]
  fields[2 * i] = value
  ownership[i] = value
end
chunked('HSET', KEYS[2], fields, 1, 2 * n)
return readShards(ownership)
`;

/**
 * KEYS: marker, owners hash. ARGV[1]: the commit header as the flat MessagePack array of
 * commit-pack.ts: owner, epoch, the shard key prefix, n, the n shard numbers, then per shard
 * deleteShard, deleted fields, window fields, watermarks (counted lists); ARGV[2..]: the window
 * blobs in order. Per shard: deleteShard, deletions, then one HSET of the windows and of the
 * watermarks that went up; then ownership. Like drop, it derives the shard keys from the prefix
 * instead of taking them as KEYS (measured: about 120 µs of client CPU and 30 µs of Redis CPU
 * less per 100-shard commit); they share the deployment's hash tag, so they are in the slot of
 * KEYS[1].
 */
export const commitScript = `${prelude}
local c = cmsgpack.unpack(ARGV[1])
local owner, epochText, prefix, n = c[1], c[2], c[3], c[4]
if redis.call('EXISTS', KEYS[1]) == 0 then return {'NOT_FOUND'} end
local ids = slice(c, 5, 4 + n)
local stored = collect('HMGET', KEYS[2], ids, 1, n)
local fenced = check(stored, ids, owner, tonumber(epochText), false)
if fenced then return fenced end
local value = epochText .. ':' .. owner
local ownership = {}
local a, b = 5 + n, 2
for i = 1, n do
  local key = prefix .. ids[i]
  if c[a] == 1 then redis.call('DEL', key) end
  local count = c[a + 1]
  a = a + 2
  if count > 0 then chunked('HDEL', key, c, a, a + count - 1) end
  a = a + count
  count = c[a]
  local fields = {}
  for j = 1, count do
    fields[2 * j - 1] = c[a + j]
    fields[2 * j] = ARGV[b]
    b = b + 1
  end
  a = a + 1 + count
  count = c[a]
  a = a + 1
  if count == 1 then
    local current = redis.call('HGET', key, c[a])
    if not current or tonumber(current) < tonumber(c[a + 1]) then
      fields[#fields + 1] = c[a]
      fields[#fields + 1] = c[a + 1]
    end
  elseif count > 1 then
    local names = {}
    for j = 1, count do names[j] = c[a + 2 * j - 2] end
    local current = collect('HMGET', key, names, 1, count)
    for j = 1, count do
      local seq = c[a + 2 * j - 1]
      if not current[j] or tonumber(current[j]) < tonumber(seq) then
        fields[#fields + 1] = names[j]
        fields[#fields + 1] = seq
      end
    end
  end
  a = a + 2 * count
  local m = #fields
  if m > 0 and m <= 1000 then redis.call('HSET', key, unpack(fields)) elseif m > 0 then chunked('HSET', key, fields, 1, m) end
  if stored[i] ~= value then
    ownership[#ownership + 1] = ids[i]
    ownership[#ownership + 1] = value
  end
end
chunked('HSET', KEYS[2], ownership, 1, #ownership)
return {'OK'}
`;

/** ARGV: the shard numbers. Returns their checkpoints. */
export const loadScript = `${prelude}
if redis.call('EXISTS', KEYS[1]) == 0 then return {'NOT_FOUND'} end
return readShards(collect('HMGET', KEYS[2], ARGV, 1, #ARGV))
`;

/** ARGV: owner, epoch, shard numbers. Clears the owner of each shard that has one; state stays. */
export const releaseScript = `${prelude}
local owner, epochText = ARGV[1], ARGV[2]
local ids = slice(ARGV, 3, #ARGV)
if redis.call('EXISTS', KEYS[1]) == 0 then return {'NOT_FOUND'} end
local stored = collect('HMGET', KEYS[2], ids, 1, #ids)
local fenced = check(stored, ids, owner, tonumber(epochText), true)
if fenced then return fenced end
local fields = {}
for i = 1, #ids do
  if stored[i] then
    fields[#fields + 1] = ids[i]
    fields[#fields + 1] = epochText .. ':'
  end
end
chunked('HSET', KEYS[2], fields, 1, #fields)
return {'OK'}
`;

/**
 * KEYS: marker, owners hash. ARGV: the shard key prefix. Unlinks every shard hash, the owners
 * hash and the marker. Shard keys are derived from the
 * owners hash, so they must all be on this node (they share the deployment's hash tag, hence its
 * slot).
 */
export const dropScript = `${prelude}
if redis.call('EXISTS', KEYS[1]) == 0 then return {'NOT_FOUND'} end
local shards = redis.call('HKEYS', KEYS[2])
local keys = {}
for i, shard in ipairs(shards) do keys[i] = ARGV[1] .. shard end
for from = 1, #keys, 1000 do redis.call('UNLINK', unpack(keys, from, math.min(from + 999, #keys))) end
redis.call('UNLINK', KEYS[1], KEYS[2])
return {'OK', tostring(#shards)}
`;
