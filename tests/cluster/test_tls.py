"""rediss://: redis-server serving TLS with a certificate of a test CA; the coordinator and a
desk process check it with ``cluster.tls_ca_file``, and one without the CA is refused."""

from __future__ import annotations

import datetime
import ipaddress
import subprocess
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from messaging.model import DeliveryState
from messaging.runtime import open_runtime
from tests.cluster.conftest import ROOT, DeskProcess, RedisServer, desk_home, free_port
from tests.cluster.helpers import coordinator_home, copies, join_command, until


def certificates(folder: Path) -> tuple[Path, Path, Path]:
    """A CA, and a certificate for 127.0.0.1 it signed: (ca, cert, key) files."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "cellphone test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    folder.mkdir(parents=True, exist_ok=True)
    paths = folder / "ca.pem", folder / "redis.pem", folder / "redis.key"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return paths


async def test_coordinator_and_desk_over_tls(tmp_path: Path, desks: list[DeskProcess]) -> None:
    ca, cert, key = certificates(tmp_path / "tls")
    tls_port = free_port()
    server = RedisServer(
        tmp_path / "redis",
        extra=(
            "--tls-port",
            str(tls_port),
            "--tls-cert-file",
            str(cert),
            "--tls-key-file",
            str(key),
            "--tls-ca-cert-file",
            str(ca),
            "--tls-auth-clients",
            "no",
        ),
    )
    server.start()  # the plain port answers the readiness check; the cluster uses TLS
    try:
        url = f"rediss://127.0.0.1:{tls_port}"
        home_1 = desk_home(tmp_path / "pc-1", 1, 2)
        desks.append(DeskProcess("pc-1", home_1, url, {"CELLPHONE_CLUSTER__TLS_CA_FILE": str(ca)}))
        desks[0].start()
        home, settings = coordinator_home(tmp_path / "coordinator", url, tls_ca_file=str(ca))
        async with open_runtime(home, settings) as rt:
            await until(lambda: len(rt.registry.current()) == 2, 30, "pc-1 announced over TLS")
            sent = await rt.service.broadcast("over TLS")
            outcomes = await rt.desk.wait_for(sent.message.id, 60)
        assert {o.state for o in outcomes.values()} == {DeliveryState.DELIVERED}
        assert copies(home_1, "Agent-2", sent.message.id) == 1

        refused = subprocess.run(  # no CA given: the server's certificate is not trusted
            join_command(url, "pc-2", desk_home(tmp_path / "pc-2", 3, 1)),
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert refused.returncode == 2
        assert f"cannot reach Redis at {url}" in refused.stderr
        assert "certificate verify failed" in refused.stderr
    finally:
        server.stop()
