"""Fetch the Apache Kafka broker jars from Maven Central once, into the user's cache.

Kafka's own pom leaves out the logging backend (compile-only in its build), so the log4j2
binding for slf4j 1.7 is listed explicitly; `log4j-slf4j2-impl` would silently log nothing.
`kafka-tools` brings Kafka's admin commands (e.g. `org.apache.kafka.tools.AclCommand`, behind `kafka-acls.sh`).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from regpipe.stack.cache import default_cache_dir, file_lock
from regpipe.stack.errors import DownloadError

__all__ = ["KAFKA_VERSION", "LOG4J_VERSION", "fetch_kafka", "kafka_home"]

KAFKA_VERSION = "4.1.1"
LOG4J_VERSION = "2.24.3"
_MARKER = ".complete"

_POM = """<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>regpipe.local</groupId>
  <artifactId>kafka-broker-jars</artifactId>
  <version>{kafka}</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>org.apache.kafka</groupId>
      <artifactId>kafka_2.13</artifactId>
      <version>{kafka}</version>
    </dependency>
    <dependency>
      <groupId>org.apache.kafka</groupId>
      <artifactId>kafka-tools</artifactId>
      <version>{kafka}</version>
    </dependency>
    <dependency>
      <groupId>org.apache.logging.log4j</groupId>
      <artifactId>log4j-slf4j-impl</artifactId>
      <version>{log4j}</version>
    </dependency>
    <dependency>
      <groupId>org.apache.logging.log4j</groupId>
      <artifactId>log4j-core</artifactId>
      <version>{log4j}</version>
    </dependency>
    <dependency>
      <groupId>org.apache.logging.log4j</groupId>
      <artifactId>log4j-api</artifactId>
      <version>{log4j}</version>
    </dependency>
  </dependencies>
</project>
"""


def kafka_home(cache_dir: Path | None = None, version: str = KAFKA_VERSION) -> Path:
    """The folder whose `libs/` holds the broker jars (it may not be fetched yet)."""
    return (cache_dir or default_cache_dir()) / f"kafka-{version}"


def fetch_kafka(cache_dir: Path | None = None, version: str = KAFKA_VERSION) -> Path:
    """Return the Kafka home folder, downloading the jars first if they are not complete.

    A marker file written after a successful download tells a complete folder from a half one
    (which is wiped and fetched again); a file lock makes concurrent callers wait for one download.
    """
    home = kafka_home(cache_dir, version)
    marker = home / _MARKER
    # The marker names what was fetched: a folder fetched by an older pom (fewer jars) is fetched again.
    complete = f"kafka {version} log4j {LOG4J_VERSION} tools\n"
    if _marked(marker, complete):
        return home
    with file_lock(home.parent / f"kafka-{version}.lock"):
        if _marked(marker, complete):  # another process finished the download while we waited for the lock
            return home
        marker.unlink(missing_ok=True)
        _download(home, version)
        marker.write_text(complete)
    return home


def _marked(marker: Path, content: str) -> bool:
    try:
        return marker.read_text() == content
    except FileNotFoundError:
        return False


def _download(home: Path, version: str) -> None:
    mvn = shutil.which("mvn")
    if mvn is None:
        raise DownloadError("Maven (`mvn`) is not on PATH: run scripts/bootstrap.sh to install it")
    libs = home / "libs"
    if libs.exists():
        shutil.rmtree(libs)  # a previous download was interrupted: start from a clean folder
    home.mkdir(parents=True, exist_ok=True)
    pom = home / "pom.xml"
    pom.write_text(_POM.format(kafka=version, log4j=LOG4J_VERSION))
    command = [
        mvn,
        "-q",
        "-B",
        "-f",
        str(pom),
        "dependency:copy-dependencies",
        "-DincludeScope=runtime",
        f"-DoutputDirectory={libs}",
    ]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        output = (result.stdout + result.stderr).strip().splitlines()[-30:]
        raise DownloadError(f"fetching Kafka {version} jars failed (exit {result.returncode}):\n" + "\n".join(output))
    if not any(libs.glob("kafka_2.13-*.jar")):
        raise DownloadError(f"Maven finished but no kafka_2.13 jar is in {libs}")
