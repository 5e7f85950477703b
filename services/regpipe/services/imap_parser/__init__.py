"""The IMAP parser service: reads one mailbox of OpenSRS event-notification e-mails and publishes each one, whole
(RFC 822 bytes), to `registrar.raw.v1`.

Delivery guarantee: at-least-once. A message is moved to the processed folder (or flagged) only after Kafka
acknowledged its record (acks=all, idempotent producer); the mailbox itself is the state, so a crash or SIGKILL
at any point loses nothing: whatever is still in the inbox is read and published again after a restart
(duplicates are removed downstream). Mail that is no notification is never published nor deleted; a notification
that cannot be published (too large, unreadable) is moved once to the rejected folder. Every record says whether a
trusted receiving server vouched for the mail (`email-auth`, docs/email-authentication.md). Replicas elect
one reader per mailbox with a PostgreSQL advisory lock.
"""
