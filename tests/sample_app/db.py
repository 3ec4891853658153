"""A tiny async PostgreSQL pool (psycopg 3): reconnects after the server comes back."""

from __future__ import annotations

import asyncio
from typing import Any, Dict, List, Optional

import psycopg
from psycopg.rows import dict_row


class Pool:
    def __init__(self, conninfo: Dict[str, Any], size: int = 8, timeout: float = 2.0):
        self.conninfo = dict(conninfo, connect_timeout=max(1, int(timeout)))
        self.size = size
        self.timeout = timeout
        self.idle: List[psycopg.AsyncConnection] = []
        self.slots = asyncio.Semaphore(size)

    async def _get(self) -> psycopg.AsyncConnection:
        while self.idle:
            conn = self.idle.pop()
            if not conn.closed:
                return conn
        return await psycopg.AsyncConnection.connect(**self.conninfo, autocommit=True, row_factory=dict_row)

    async def query(self, sql: str, params: Optional[tuple] = None) -> List[Dict[str, Any]]:
        async with self.slots:
            conn = await asyncio.wait_for(self._get(), self.timeout)
            try:
                cur = await asyncio.wait_for(conn.execute(sql, params), self.timeout)
                rows = await cur.fetchall() if cur.description else []
            except BaseException:
                await conn.close()   # broken or timed out: never hand it out again
                raise
            self.idle.append(conn)
            return rows

    async def close(self) -> None:
        for conn in self.idle:
            await conn.close()
        self.idle.clear()
