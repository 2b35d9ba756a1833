"""A real Spark Connect server for tests: pyspark's own, on a loopback port, local[2], killed by PID.

pyspark ships the server (``spark-connect_*.jar``); it needs a Java 17 runtime (Debian's
``openjdk-17-jre-headless``, installed by ``./dev``). One per test session: it takes 20-60 s to start.
"""

from __future__ import annotations

import glob
import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pyspark

STARTUP_TIMEOUT_SECONDS = 240


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _java_home() -> str | None:
    found = sorted(glob.glob("/usr/lib/jvm/java-17-openjdk-*"))
    return found[0] if found else os.environ.get("JAVA_HOME")


@dataclass
class SparkConnectServer:
    url: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)  # its own group: the JVM and nothing else
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)


def start_spark_connect(folder: Path) -> SparkConnectServer:
    spark_home = Path(pyspark.__file__).parent
    port = _free_port()
    env = {**os.environ, "SPARK_HOME": str(spark_home), "SPARK_LOCAL_IP": "127.0.0.1"}
    if _java_home():
        env["JAVA_HOME"] = str(_java_home())
    log_path = folder / "spark-connect.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [
                str(spark_home / "bin" / "spark-submit"),
                "--class",
                "org.apache.spark.sql.connect.service.SparkConnectServer",
                "--master",
                "local[2]",
                "--driver-memory",
                "768m",
                "--conf",
                "spark.connect.grpc.binding.address=127.0.0.1",
                "--conf",
                f"spark.connect.grpc.binding.port={port}",
                "--conf",
                "spark.ui.enabled=false",
                "--conf",
                "spark.sql.shuffle.partitions=2",
                "--conf",
                "spark.sql.session.timeZone=UTC",
                "spark-internal",
            ],
            cwd=folder,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = SparkConnectServer(f"sc://127.0.0.1:{port}", process, log_path)
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"Spark Connect exited at start:\n{log_path.read_text(errors='replace')[-3000:]}"
            )
        if b"Spark Connect server started" in log_path.read_bytes():
            return server
        time.sleep(0.5)
    server.stop()
    raise RuntimeError(
        f"Spark Connect did not start in time:\n{log_path.read_text(errors='replace')[-3000:]}"
    )
