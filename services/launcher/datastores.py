"""Which Redis and PostgreSQL `make run` uses, each decided on its own:

- REDIS_URL / DATABASE_URL set: that one ("given"), never an embedded one;
- else something listens on 127.0.0.1:LOCAL_REDIS_PORT / LOCAL_POSTGRES_PORT (6379 / 5432): that
  one ("found"; PostgreSQL's database is `exchange`, role `postgres`);
- else an embedded one is started on that port (launcher.embedded), data under the run dir, and
  stopped when the exchange stops ("embedded").
"""

from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from launcher.embedded import HOST, POSTGRES_ROLE, Embedded, port_listens, start_postgres, start_redis
from launcher.settings import LauncherSettings

GIVEN = "given"
FOUND = "found"
EMBEDDED = "embedded"


@dataclass(frozen=True)
class DataStore:
    """One store as used: its URL, how it was chosen (GIVEN, FOUND, EMBEDDED), and for an
    embedded one where its data lives."""

    name: str
    url: str
    origin: str
    data_dir: Path | None = None

    def describe(self) -> str:
        """What the banner prints after the store's name."""
        if self.origin == GIVEN:
            variable = "REDIS_URL" if self.name == "Redis" else "DATABASE_URL"
            return f"{self.url}   (from {variable})"
        if self.origin == FOUND:
            return f"{self.url}   (already running on this machine)"
        return f"{self.url}   (embedded, started and stopped with the exchange; data: {self.data_dir})"


@dataclass(frozen=True)
class DataStores:
    redis: DataStore
    postgres: DataStore

    def banner_lines(self) -> list[str]:
        return [f"  Redis      {self.redis.describe()}", f"  PostgreSQL {self.postgres.describe()}"]


def _embedded(started: Embedded) -> DataStore:
    return DataStore(started.name, started.url, EMBEDDED, started.data_dir)


def provide(settings: LauncherSettings, run_dir: Path, stops: ExitStack) -> DataStores:
    """The Redis and PostgreSQL to run the exchange on, starting embedded ones where none is
    given or found; each started one's stop is pushed on `stops`. Redis is settled first: its
    failure (no redis-server) is cheap to report. Raises PrepareError."""
    given = settings.model_fields_set
    if "redis_url" in given:
        redis = DataStore("Redis", settings.redis_url, GIVEN)
    elif port_listens(settings.local_redis_port):
        redis = DataStore("Redis", f"redis://{HOST}:{settings.local_redis_port}/0", FOUND)
    else:
        started = start_redis(run_dir, settings.local_redis_port)
        stops.callback(started.stop)
        redis = _embedded(started)
    if "database_url" in given:
        postgres = DataStore("PostgreSQL", settings.database_url, GIVEN)
    elif port_listens(settings.local_postgres_port):
        url = f"postgresql://{POSTGRES_ROLE}@{HOST}:{settings.local_postgres_port}/exchange"
        postgres = DataStore("PostgreSQL", url, FOUND)
    else:
        started = start_postgres(run_dir, settings.local_postgres_port)
        stops.callback(started.stop)
        postgres = _embedded(started)
    return DataStores(redis, postgres)
