"""Apply the access table's grants (`regpipe.kafka.access.PRINCIPALS`) to a local broker that runs the ACL
authorizer, so least privilege can be proven on a real broker before it is deployed.

aiokafka's admin client has no `create_acls`; its protocol layer has the CreateAcls request, sent here through
the admin client's connection (a private call, kept to this one module).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Final

from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.protocol.admin import CreateAclsRequest

from regpipe.kafka.access import Principal
from regpipe.stack.errors import StackError

__all__ = ["apply_grants"]

# Kafka's wire codes (org.apache.kafka.common.resource / acl enums).
_RESOURCE: Final = {"topic": 2, "group": 3, "cluster": 4, "transactionalId": 5}
_PATTERN: Final = {"literal": 3, "prefix": 4}
_OPERATION: Final = {"Read": 3, "Write": 4, "Create": 5, "Delete": 6, "Alter": 7, "Describe": 8}
_ALLOW: Final = 3


async def apply_grants(client_options: dict[str, Any], principals: Iterable[Principal]) -> int:
    """Create every ACL of `principals` (as an admin, through `client_options`); returns how many."""
    admin = AIOKafkaAdminClient(**client_options)
    await admin.start()
    created = 0
    try:
        for principal in principals:
            for acl in principal.acls():
                resource = acl["resource"]
                for operation in acl["operations"]:
                    request = CreateAclsRequest(
                        _RESOURCE[resource["type"]],
                        resource.get("name", "kafka-cluster"),
                        _PATTERN[resource.get("patternType", "literal")],
                        f"User:{principal.name}",
                        acl["host"],
                        _OPERATION[operation],
                        _ALLOW,
                    )
                    response = await admin._send_request(request)  # see the module docstring
                    for error_code, message in response.creation_responses:
                        if error_code:
                            raise StackError(f"creating an ACL for {principal.name} failed ({error_code}): {message}")
                    created += 1
    finally:
        await admin.close()
    return created
