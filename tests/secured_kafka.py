"""A throwaway broker with SASL/SCRAM, the ACL authorizer, the registry's topics and the principal table's grants."""

from __future__ import annotations

import secrets
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from pathlib import Path

from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from regpipe.kafka.access import PRINCIPALS
from regpipe.kafka.topics import TOPICS
from regpipe.stack.kafka import KafkaSecurity, KafkaServer
from regpipe.stack.kafka_grants import apply_grants


@asynccontextmanager
async def secured_broker(users: Iterable[str], *, prefix: str = "regpipe-sasl-") -> AsyncIterator[KafkaServer]:
    """Start it with a random password for `admin` and each of `users`; stop it and remove its files after."""
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    passwords = {name: secrets.token_urlsafe(18) for name in ("admin", *users)}
    server = KafkaServer(folder / "kafka", security=KafkaSecurity(passwords))
    await server.astart()
    try:
        admin = AIOKafkaAdminClient(**server.client_options())
        await admin.start()
        try:
            await admin.create_topics([NewTopic(spec.name.value, spec.partitions, 1) for spec in TOPICS.values()])
        finally:
            await admin.close()
        assert await apply_grants(server.client_options(), PRINCIPALS) > 0
        yield server
    finally:
        await server.astop()
        shutil.rmtree(folder, ignore_errors=True)
