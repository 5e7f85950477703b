"""Shared ingestion plumbing: the raw-record publisher every ingestor (receiver, pollers, IMAP parser) uses."""

from regpipe.ingest.publisher import PublishedRecord, RawPublisher

__all__ = ["PublishedRecord", "RawPublisher"]
