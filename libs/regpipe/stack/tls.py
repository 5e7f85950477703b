"""A throwaway certificate for a local TLS listener, and the CA file clients trust it with.

Made with `trustme` (a dev dependency) when it is installed, else with `openssl req -x509`
(the certificate is then its own CA); with neither, TLS is left out.
"""

from __future__ import annotations

import importlib.util
import ipaddress
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from regpipe.stack.errors import StackError

__all__ = ["TlsFiles", "make_tls_files"]


@dataclass(frozen=True, slots=True)
class TlsFiles:
    """PEM files: the server's certificate chain and key, and the CA that clients should trust."""

    cert_file: Path
    key_file: Path
    ca_file: Path


def make_tls_files(folder: Path, hosts: list[str]) -> TlsFiles | None:
    """Write a certificate valid for `hosts` (names or IP addresses) into `folder`.

    Returns None when neither trustme nor openssl is available.
    """
    folder.mkdir(parents=True, exist_ok=True)
    files = TlsFiles(folder / "server.pem", folder / "server.key", folder / "ca.pem")
    if importlib.util.find_spec("trustme") is not None:
        _with_trustme(files, hosts)
    elif shutil.which("openssl") is not None:
        _with_openssl(files, hosts)
    else:
        return None
    files.key_file.chmod(0o600)
    return files


def _with_trustme(files: TlsFiles, hosts: list[str]) -> None:
    import trustme  # a dev dependency: imported only once known to be installed

    authority = trustme.CA()
    issued = authority.issue_cert(*hosts)
    authority.cert_pem.write_to_path(str(files.ca_file))
    files.cert_file.write_bytes(b"".join(blob.bytes() for blob in issued.cert_chain_pems))
    issued.private_key_pem.write_to_path(str(files.key_file))


def _with_openssl(files: TlsFiles, hosts: list[str]) -> None:
    names = ",".join(f"IP:{host}" if _is_ip(host) else f"DNS:{host}" for host in hosts)
    result = subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "7",
            "-keyout", str(files.key_file), "-out", str(files.cert_file),
            "-subj", f"/CN={hosts[0]}", "-addext", f"subjectAltName={names}",
        ],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if result.returncode != 0:
        raise StackError(f"openssl could not make a test certificate: {result.stderr.strip()}")
    shutil.copyfile(files.cert_file, files.ca_file)  # self-signed: the certificate is its own CA


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True
