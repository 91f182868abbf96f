"""The Redis budget store: every replica of a service reserves and settles against the same counters.

One round trip per check-and-reserve and one per settle, each a Lua script (atomic: concurrent calls cannot
race past a limit). A counter is a hash (``spent``, ``reserved``, ``r:<id>`` = amount held by a reservation)
with a sorted set ``<key>#r`` of reservation deadlines: every check first drops expired reservations, so a
dead process's hold ends at its deadline. Amounts go in and out as decimal strings (Lua numbers are doubles;
compared as doubles, exact below 2**53 nano-USD = $9M per window). Keys expire a day after their window.

The ``redis`` client is an optional extra (``pip install otel-llm-cost[budgets-redis]``), imported here only.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import parse_qs, urlparse

from .store import Reserved, Slot, StoreUnavailable

HOLDS = "#r"
_PURGE_BATCH = 64

# KEYS: hash, zset per slot. ARGV: reservation, amount, now ms, deadline ms, then per slot: limit, blocks, expire ms.
_RESERVE = """
local rid, amount, now, deadline = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local need = tonumber(amount)
local n = #KEYS / 2
local refused = 0
local out = {}
for i = 1, n do
  local h, z = KEYS[2 * i - 1], KEYS[2 * i]
  local expired = redis.call('ZRANGEBYSCORE', z, '-inf', now, 'LIMIT', 0, PURGE_BATCH)
  for _, id in ipairs(expired) do
    local held = redis.call('HGET', h, 'r:' .. id)
    if held then
      redis.call('HINCRBY', h, 'reserved', '-' .. held)
      redis.call('HDEL', h, 'r:' .. id)
    end
    redis.call('ZREM', z, id)
  end
  local state = redis.call('HMGET', h, 'spent', 'reserved')
  local spent, reserved = tonumber(state[1] or '0'), tonumber(state[2] or '0')
  local base = 4 + 3 * (i - 1)
  if refused == 0 and ARGV[base + 2] == '1' and spent + reserved + need > tonumber(ARGV[base + 1]) then
    refused = i
  end
  out[2 * i - 1], out[2 * i] = spent, reserved
end
if refused == 0 and need > 0 then
  for i = 1, n do
    local base = 4 + 3 * (i - 1)
    if ARGV[base + 2] == '1' then
      local h, z = KEYS[2 * i - 1], KEYS[2 * i]
      out[2 * i] = redis.call('HINCRBY', h, 'reserved', amount)
      redis.call('HSET', h, 'r:' .. rid, amount)
      redis.call('ZADD', z, deadline, rid)
      redis.call('PEXPIREAT', h, ARGV[base + 3])
      redis.call('PEXPIREAT', z, ARGV[base + 3])
    end
  end
end
table.insert(out, 1, refused)
return out
""".replace("PURGE_BATCH", str(_PURGE_BATCH))

# KEYS: hash, zset per slot. ARGV: reservation, actual, retry ('1'/'0'), then per slot: expire ms.
_SETTLE = """
local rid, actual, retry = ARGV[1], ARGV[2], ARGV[3]
local out = {}
for i = 1, #KEYS / 2 do
  local h, z = KEYS[2 * i - 1], KEYS[2 * i]
  local held = redis.call('HGET', h, 'r:' .. rid)
  if held then
    redis.call('HINCRBY', h, 'reserved', '-' .. held)
    redis.call('HDEL', h, 'r:' .. rid)
    redis.call('ZREM', z, rid)
  end
  if (held or retry == '0') and actual ~= '0' then
    out[i] = redis.call('HINCRBY', h, 'spent', actual)
    redis.call('PEXPIREAT', h, ARGV[3 + i])
  else
    out[i] = tonumber(redis.call('HGET', h, 'spent') or '0')
  end
end
return out
"""

# KEYS: hash, zset per slot. ARGV: now ms. Read-only: expired holds are left out, not removed.
_READ = """
local now = tonumber(ARGV[1])
local out = {}
for i = 1, #KEYS / 2 do
  local h, z = KEYS[2 * i - 1], KEYS[2 * i]
  local state = redis.call('HMGET', h, 'spent', 'reserved')
  local reserved = tonumber(state[2] or '0')
  for _, id in ipairs(redis.call('ZRANGEBYSCORE', z, '-inf', now)) do
    reserved = reserved - tonumber(redis.call('HGET', h, 'r:' .. id) or '0')
  end
  out[2 * i - 1], out[2 * i] = tonumber(state[1] or '0'), reserved
end
return out
"""

_DEFAULT_TIMEOUTS = {"socket_timeout": 0.5, "socket_connect_timeout": 0.5}


def _keys(slots: Sequence[Slot] | Sequence[str]) -> list[str]:
    keys: list[str] = []
    for slot in slots:
        key = slot if isinstance(slot, str) else slot.key
        keys += (key, key + HOLDS)
    return keys


def _ms(epoch: float) -> str:
    return str(int(epoch * 1000))


class RedisStore:
    """Budget counters in Redis (``redis://``, ``rediss://`` or ``unix://`` URL; the URL's query may set
    ``socket_timeout`` etc.; by default half a second, so a hung Redis delays a call by at most that)."""

    def __init__(self, url: str) -> None:
        try:
            import redis
        except ImportError:
            raise StoreUnavailable("OTEL_LLM_COST_BUDGET_STORE names Redis but the redis client is not installed: "
                                   "pip install 'otel-llm-cost[budgets-redis]'") from None
        self.url = url
        given = parse_qs(urlparse(url).query)
        options = {k: v for k, v in _DEFAULT_TIMEOUTS.items() if k not in given}
        try:
            self._client: Any = redis.Redis.from_url(url, **options)
        except ValueError as error:
            raise StoreUnavailable(f"OTEL_LLM_COST_BUDGET_STORE={url!r}: {error}") from None
        self._errors: tuple[type[BaseException], ...] = (redis.RedisError, OSError)
        self._reserve = self._client.register_script(_RESERVE)
        self._settle = self._client.register_script(_SETTLE)
        self._read = self._client.register_script(_READ)

    def _run(self, script: Any, keys: list[str], args: list[str]) -> list[int]:
        try:
            result = script(keys=keys, args=args)
        except self._errors as error:
            raise StoreUnavailable(f"{type(error).__name__}: {error}") from None
        return [int(x) for x in result]

    def reserve(self, slots: Sequence[Slot], amount: int, reservation: str, now: float,
                ttl: float) -> Reserved:
        args = [reservation, str(amount), _ms(now), _ms(now + ttl)]
        for slot in slots:
            args += (str(slot.limit), "1" if slot.blocks else "0", _ms(slot.expires_at))
        out = self._run(self._reserve, _keys(slots), args)
        return Reserved(out[0] - 1, out[1::2], out[2::2])

    def settle(self, slots: Sequence[Slot], reservation: str, actual: int, retry: bool) -> list[int]:
        args = [reservation, str(actual), "1" if retry else "0", *(_ms(slot.expires_at) for slot in slots)]
        return self._run(self._settle, _keys(slots), args)

    def read(self, keys: Sequence[str], now: float) -> list[tuple[int, int]]:
        out = self._run(self._read, _keys(keys), [_ms(now)])
        return list(zip(out[0::2], out[1::2], strict=True))

    def scan(self, prefix: str) -> list[str]:
        pattern = prefix.replace("\\", "\\\\").replace("*", "\\*").replace("?", "\\?").replace("[", "\\[")
        try:
            found = self._client.scan_iter(match=pattern + "*", count=1000)
            keys = [k.decode() if isinstance(k, bytes) else str(k) for k in found]
        except self._errors as error:
            raise StoreUnavailable(f"{type(error).__name__}: {error}") from None
        return sorted(k for k in keys if not k.endswith(HOLDS))

    def ping(self) -> None:
        try:
            self._client.ping()
        except self._errors as error:
            raise StoreUnavailable(f"{type(error).__name__}: {error}") from None

    def close(self) -> None:
        self._client.close()
