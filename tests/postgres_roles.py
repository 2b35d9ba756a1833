"""A PostgreSQL role that must give its password, on the session's trust-authenticated test server.

The server trusts every local connection; one ``pg_hba.conf`` line, for this role alone, asks it for
scram-sha-256, so a test of where a source's password comes from (environment, keyring) can fail.
"""

from __future__ import annotations

import itertools
import os

import ibis
import pandas as pd
import psycopg

_COUNTER = itertools.count(1)


def password_role(server, rows: pd.DataFrame, secret: str) -> str:
    """A new database holding ``rows`` as ``predictions``, readable by a new role with ``secret``;
    returns the source URL (the role's name, no password)."""
    role = f"reader{os.getpid()}_{next(_COUNTER)}"
    name = server.create_database().rsplit("/", 1)[1]
    con = ibis.postgres.connect(host="127.0.0.1", port=server.port, user="postgres", database=name)
    con.create_table("predictions", rows)
    con.disconnect()
    server.admin(f"CREATE ROLE {role} LOGIN PASSWORD '{secret}'")
    with psycopg.connect(f"host=127.0.0.1 port={server.port} user=postgres dbname={name}") as c:
        c.execute(f"GRANT SELECT ON predictions TO {role}")
    hba = server.root / "data" / "pg_hba.conf"
    hba.write_text(f"host all {role} 127.0.0.1/32 scram-sha-256\n" + hba.read_text())
    server.admin("SELECT pg_reload_conf()")
    return f"postgresql+psycopg://{role}@127.0.0.1:{server.port}/{name}"
