"""Django's Redis cache, with one Redis client per connection pool instead of one per operation.

Django's ``RedisCacheClient.get_client`` builds a new ``redis.Redis`` object for every cache call;
with redis-py 8 that costs about as much as the round trip itself (~130 µs here), and a claim on
the rush day makes several cache calls. ``redis.Redis`` objects are thread-safe (they borrow a
connection from the pool per command), so one per pool is enough.
"""

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient
from django.db import connection, transaction


class ReusingRedisCacheClient(RedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        index = self._get_connection_pool_index(write)
        client = self._clients.get(index)
        if client is None:
            client = self._clients[index] = self._client(connection_pool=self._get_connection_pool(write))
        return client


class RedisCache(DjangoRedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = ReusingRedisCacheClient

    def raw_client(self, *, write: bool = True):
        """The redis-py client behind the cache, for commands the cache API lacks (pipelines)."""
        return self._cache.get_client(write=write)


def drop_now_and_on_commit(drop) -> None:
    """Run a cache invalidation now and again once the current transaction commits.

    A `post_save` receiver runs before COMMIT: a request reading the row in between still sees the
    old one and may cache it again, for the whole TTL. The second run, after COMMIT, removes that.
    Outside a transaction the save has already committed and once is enough.
    """
    drop()
    if connection.in_atomic_block:
        transaction.on_commit(drop)
