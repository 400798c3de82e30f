-- Fencing tokens of the partitions written to the database (docs/leases.md): a writer's
-- transaction raises its market's row to the writer's lease token and is refused (rolled back)
-- when a higher token is already there, so a former holder cannot write after its successor.
CREATE TABLE IF NOT EXISTS partition_fences (
    symbol TEXT NOT NULL,
    role TEXT NOT NULL,
    token BIGINT NOT NULL,
    PRIMARY KEY (symbol, role)
);
