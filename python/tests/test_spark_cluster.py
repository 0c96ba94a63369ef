"""labelgen.spark on a standalone Spark cluster on loopback: a master and two one-core workers,
each started with pyspark's own `bin/spark-class`, so that nothing can silently depend on the
driver's process or files: the same results as the command line, computed in the workers'
executors from their own copies of the LF file."""
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import LFS_TOML
from test_spark import check_against_cli, check_plugin_against_cli, cli, comments, session  # noqa: F401 (fixtures)

pyspark = pytest.importorskip("pyspark")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def standalone(tmp_path_factory):
    """A standalone Spark cluster on loopback: a master and two one-core workers, each started
    with pyspark's own bin/spark-class, in their own folders."""
    spark_class = Path(pyspark.__file__).parent / "bin" / "spark-class"
    work = tmp_path_factory.mktemp("cluster")
    port = free_port()
    master_url = f"spark://127.0.0.1:{port}"
    env = {**os.environ, "SPARK_LOCAL_IP": "127.0.0.1", "PYSPARK_PYTHON": sys.executable}
    logs = []

    def start(*args, name):
        log = open(work / f"{name}.log", "w")
        logs.append(log)
        return subprocess.Popen([str(spark_class), *args], stdout=log, stderr=subprocess.STDOUT, env=env, cwd=work)

    processes = [start("org.apache.spark.deploy.master.Master", "--host", "127.0.0.1", "--port", str(port),
                       "--webui-port", str(free_port()), name="master")]
    deadline = time.time() + 90
    while time.time() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.5)
    for worker in range(2):
        folder = work / f"worker{worker}"
        folder.mkdir()
        processes.append(start("org.apache.spark.deploy.worker.Worker", master_url, "--host", "127.0.0.1",
                               "--cores", "1", "--memory", "1g", "--work-dir", str(folder),
                               "--webui-port", str(free_port()), name=f"worker{worker}"))
    time.sleep(3)
    spark = session(master_url)
    yield spark, work
    spark.stop()
    for process in processes:
        process.terminate()
    for process in processes:
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
    for log in logs:
        log.close()


def test_a_standalone_cluster_matches_the_command_line(standalone, comments, cli):
    spark, _ = standalone
    check_against_cli(spark, comments, cli, 3)
    # The work ran in the two workers' executors (not in the driver), each reading its own copy
    # of the LF file shipped to it, never the driver's.
    executors = spark.sparkContext._jsc.sc().getExecutorMemoryStatus().size() - 1
    assert executors == 2

    def where(_):
        from pyspark import SparkFiles

        path = SparkFiles.get("youtube_spam.toml")
        return os.getpid(), path, os.path.exists(path)

    seen = spark.sparkContext.parallelize(range(8), 8).map(where).collect()
    assert all(exists for _, _, exists in seen)
    assert all(path != str(LFS_TOML) for _, path, _ in seen)
    assert os.getpid() not in {pid for pid, _, _ in seen}


def test_a_plugin_runs_on_the_cluster_from_the_workers_copies(standalone, comments, comments_csv, youtube_plugin,
                                                               tmp_path):
    """A plugin library on the cluster: the workers load their own shipped copies, and the votes
    are the command line's."""
    spark, _ = standalone
    check_plugin_against_cli(spark, comments, comments_csv, youtube_plugin, tmp_path, 4)

    def where(_):
        from pyspark import SparkFiles

        path = SparkFiles.get(youtube_plugin.name)
        return path, os.path.exists(path)

    seen = spark.sparkContext.parallelize(range(4), 4).map(where).collect()
    assert all(exists and path != str(youtube_plugin) for path, exists in seen)
