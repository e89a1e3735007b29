"""The class wall's rounds in Redis, as Lua scripts: Redis runs each whole, so two replicas can
never both open a round, both take the last answer's place, or number two pictures alike.

    studio:wall:ids            the last round's id (INCR: never reused, pictures are cached by it)
    studio:wall:version        grows with each change: a page redraws only when it changed
    studio:wall:open           the open round's id; absent when none is (so one at most)
    studio:wall:rounds         the ids of the last MAX_ROUNDS rounds, oldest first
    studio:wall:r:<id>         the round: kind, prompt, model, note, seq (answers), n (pictures)
    studio:wall:a:<id>         answers: a person's key -> "<seq>:" and [guess, name] as JSON
                               (seq: the order they came in, a changed mind counted as new)
    studio:wall:p:<id>         pictures: their number -> [seed, name, key] as JSON
    studio:wall:who:<id>       pictures: a person's key -> their picture's number
    studio:wall:j:<id>:<n>     a picture's thumbnail (JPEG bytes)

A round's keys expire a day after its last change (a wall left over the weekend leaves no
pictures behind) and go at once when it falls out of the last rounds. The keys are built inside
the scripts from the prefix: one Redis (or Valkey) server, not a cluster, as for the limits.
"""

_COMMON = """
local p, day = ARGV[1], tonumber(ARGV[2])
local function forget(id)
  for _, n in ipairs(redis.call('HKEYS', p .. 'p:' .. id)) do
    redis.call('DEL', p .. 'j:' .. id .. ':' .. n)
  end
  redis.call('DEL', p .. 'r:' .. id, p .. 'a:' .. id, p .. 'p:' .. id, p .. 'who:' .. id)
end
-- the round asked for ('' for the open one), checked open and of `kind`: its id, or an error
local function find(given, kind)
  local open = redis.call('GET', p .. 'open')
  local id = given
  if id == '' then id = open end
  if not id or redis.call('EXISTS', p .. 'r:' .. id) == 0 then return nil, 'none' end
  if id ~= open then return nil, 'closed' end
  local has = redis.call('HGET', p .. 'r:' .. id, 'kind')
  if kind ~= '' and has ~= kind then return nil, 'kind:' .. has end
  return id
end
local function changed(...)
  for _, key in ipairs({...}) do redis.call('PEXPIRE', key, day) end
  return redis.call('INCR', p .. 'version')
end
"""

# ARGV: prefix, a day in ms, kind, prompt, how many rounds are kept
OPEN = (
    _COMMON
    + """
local id = tostring(redis.call('INCR', p .. 'ids'))
redis.call('HSET', p .. 'r:' .. id, 'kind', ARGV[3], 'prompt', ARGV[4], 'seq', 0, 'n', 0)
redis.call('SET', p .. 'open', id)
redis.call('RPUSH', p .. 'rounds', id)
while redis.call('LLEN', p .. 'rounds') > tonumber(ARGV[5]) do
  forget(redis.call('LPOP', p .. 'rounds'))
end
changed(p .. 'r:' .. id, p .. 'open', p .. 'rounds')
return id
"""
)

# ARGV: prefix, a day in ms
CLOSE = _COMMON + "redis.call('DEL', p .. 'open')\nreturn changed()\n"

# ARGV: prefix, a day in ms, round id, the model's choices (JSON), the note
SET_MODEL = (
    _COMMON
    + """
local round = p .. 'r:' .. ARGV[3]
if redis.call('EXISTS', round) == 0 then return 0 end
redis.call('HSET', round, 'model', ARGV[4], 'note', ARGV[5])
return changed(round)
"""
)

# ARGV: prefix, a day in ms, which round ('latest', or an id, '' for the open one), kind (''
# for any), whole ('1': with its answers and pictures; a student's page needs neither).
# {status ('ok' or why not), version, id, open (1/0), its fields, answers, pictures}.
READ = (
    _COMMON
    + """
local version = redis.call('GET', p .. 'version') or '0'
local id, why
if ARGV[3] == 'latest' then
  id = redis.call('LINDEX', p .. 'rounds', -1)
  if not id or redis.call('EXISTS', p .. 'r:' .. id) == 0 then return {'none', version} end
else
  id, why = find(ARGV[3], ARGV[4])
  if not id then return {why, version} end
end
local is_open = 0
if redis.call('GET', p .. 'open') == id then is_open = 1 end
local answers, pictures = {}, {}
if ARGV[5] == '1' then
  answers = redis.call('HGETALL', p .. 'a:' .. id)
  pictures = redis.call('HGETALL', p .. 'p:' .. id)
end
return {'ok', version, id, is_open, redis.call('HGETALL', p .. 'r:' .. id), answers, pictures}
"""
)

# ARGV: prefix, a day in ms, round id ('' for the open one), key, [guess, name] (JSON), most
ANSWER = (
    _COMMON
    + """
local id, why = find(ARGV[3], 'next_word')
if not id then return {why} end
local answers = p .. 'a:' .. id
if redis.call('HEXISTS', answers, ARGV[4]) == 0 and
   redis.call('HLEN', answers) >= tonumber(ARGV[6]) then return {'full'} end
local seq = redis.call('HINCRBY', p .. 'r:' .. id, 'seq', 1)
redis.call('HSET', answers, ARGV[4], string.format('%010d:', seq) .. ARGV[5])
changed(answers, p .. 'r:' .. id)
return {'ok', id, redis.call('HLEN', answers)}
"""
)

# ARGV: prefix, a day in ms, round id, key, [seed, name, key] (JSON), thumbnail, most pictures
PICTURE = (
    _COMMON
    + """
local id, why = find(ARGV[3], 'paint')
if not id then return {why} end
local pictures, who = p .. 'p:' .. id, p .. 'who:' .. id
local old = redis.call('HGET', who, ARGV[4])
local kept = redis.call('HLEN', pictures)
if old then kept = kept - 1 end
if kept >= tonumber(ARGV[7]) then return {'full'} end
local n = tostring(redis.call('HINCRBY', p .. 'r:' .. id, 'n', 1) - 1)
if old then
  redis.call('HDEL', pictures, old)
  redis.call('DEL', p .. 'j:' .. id .. ':' .. old)
end
redis.call('HSET', pictures, n, ARGV[5])
redis.call('HSET', who, ARGV[4], n)
redis.call('SET', p .. 'j:' .. id .. ':' .. n, ARGV[6], 'PX', day)
changed(pictures, who, p .. 'r:' .. id)
return {'ok', id, redis.call('HLEN', pictures)}
"""
)
