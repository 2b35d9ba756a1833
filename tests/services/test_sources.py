"""External log sources on real engines (DuckDB in-process, PostgreSQL, Spark Connect): every number an
analysis pushed down to the engine gives equals the in-memory analysis of the same rows imported as a log
(1e-12; histogram AUC within its stated bound), and bad input leaves the database exactly as it was."""

from __future__ import annotations

import io
import math
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

import signoff.services.sources as sources_service
from signoff.analysis.fairness import FairnessCounts, fairness_from_counts
from signoff.domain.errors import Cancelled, ExternalServiceError, InputError
from signoff.domain.prediction_log import ColumnMapping
from signoff.services.count_tables import count_tables
from signoff.services.drift import analyze_drift, analyze_validation
from signoff.services.fairness import analyze_fairness, analyze_monitoring, analyze_performance
from signoff.services.logs import import_log, load_log_frame
from signoff.services.models import add_model_version
from signoff.services.report_numbers import recompute
from signoff.services.sources import register_source
from signoff.storage import open_database

MAPPING = ColumnMapping(
    label="y", prediction="yhat", scores=("p1",), sensitive=("sex", "race"), timestamp="ts"
)


def _log_frame(n: int = 2400, seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    sex = rng.choice(["Female", "Male"], size=n).astype(object)
    sex[:25] = None  # the Unknown group
    score = np.round(rng.random(n), 2)  # 101 distinct scores: exact AUC through GROUP BY score
    return pd.DataFrame(
        {
            "ts": pd.date_range("2026-01-05", periods=n, freq="37min", tz="UTC"),
            "y": (rng.random(n) < score).astype(np.int64),
            "yhat": (score > np.where(sex == "Female", 0.6, 0.5)).astype(np.int64),
            "p1": score,
            "sex": sex,
            "race": rng.choice(["Asian", "Black", "White"], size=n, p=[0.2, 0.3, 0.5]),
        }
    )


@pytest.fixture(scope="module")
def log_rows(tmp_path_factory) -> tuple[pd.DataFrame, Path]:
    frame = _log_frame()
    path = tmp_path_factory.mktemp("source") / "log.parquet"
    frame.to_parquet(path, index=False)
    return frame, path


@pytest.fixture
def signoff_db(tmp_path):
    db = open_database(f"sqlite:///{tmp_path / 'signoff.db'}")
    add_model_version(db, name="credit", version="1")
    yield db
    db.close()


def _source_url(engine: str, path: Path, request) -> tuple[str, str | None, str | None]:
    """(url, table, query) of the same rows on ``engine``."""
    if engine == "duckdb":
        return f"duckdb://{path}", None, None
    if engine == "postgres":
        import ibis

        server = request.getfixturevalue("postgres_server")
        url = server.create_database()
        con = ibis.postgres.connect(
            host="127.0.0.1", port=server.port, user="postgres", database=url.rsplit("/", 1)[1]
        )
        con.create_table("predictions", pd.read_parquet(path))
        con.disconnect()
        return url, "predictions", None
    spark = request.getfixturevalue("spark_connect_server")
    return spark, None, f"SELECT * FROM parquet.`{path}`"


def _assert_same(imported, pushed, path: str = "") -> None:
    """Every value equal (floats to 1e-12), except the run's own parameters and the source section."""
    if isinstance(imported, dict):
        assert set(imported) <= set(pushed), (path, set(imported) ^ set(pushed))
        for key, value in imported.items():
            if key in ("params", "source", "engine_version"):
                continue
            _assert_same(value, pushed[key], f"{path}/{key}")
    elif isinstance(imported, list):
        assert len(imported) == len(pushed), path
        for i, (a, b) in enumerate(zip(imported, pushed, strict=True)):
            _assert_same(a, b, f"{path}[{i}]")
    elif isinstance(imported, float) and isinstance(pushed, float):
        assert math.isclose(imported, pushed, rel_tol=1e-12, abs_tol=1e-12), (path, imported, pushed)
    else:
        assert imported == pushed, (path, imported, pushed)


@pytest.mark.parametrize("engine", ["duckdb", "postgres", "spark"])
def test_pushed_down_analyses_equal_the_imported_log(engine, log_rows, signoff_db, request):
    frame, path = log_rows
    url, table, query = _source_url(engine, path, request)
    registered = register_source(
        signoff_db, model="credit", version="1", url=url, table=table, query=query, mapping=MAPPING
    )
    assert registered.created and registered.log.rows == len(frame)
    assert registered.log.validation.label_domain == ("0", "1")
    imported = import_log(signoff_db, path, model="credit", version="1", mapping=MAPPING).log

    ask = {"name": "credit", "version": "1", "n_resamples": 200, "seed": 3}
    fair_rows = analyze_fairness(signoff_db, log_id=imported.id, **ask)
    fair_source = analyze_fairness(signoff_db, log_id=registered.log.id, **ask)
    _assert_same(fair_rows.run.result, fair_source.run.result)
    # independent oracle for the one metric that is not a count: scikit-learn's AUC on the rows
    assert math.isclose(
        fair_source.result.overall.metrics["roc_auc"], roc_auc_score(frame["y"], frame["p1"]), rel_tol=1e-12
    )
    assert fair_source.result.n_rows == len(frame)

    perf_rows = analyze_performance(signoff_db, log_id=imported.id, **ask)
    perf_source = analyze_performance(signoff_db, log_id=registered.log.id, **ask)
    _assert_same(perf_rows.run.result, perf_source.run.result)

    for frequency in ("day", "week"):
        mon_rows = analyze_monitoring(
            signoff_db, name="credit", version="1", log_id=imported.id, frequency=frequency
        )
        mon_source = analyze_monitoring(
            signoff_db, name="credit", version="1", log_id=registered.log.id, frequency=frequency
        )
        _assert_same(mon_rows.run.result, mon_source.run.result)

    valid_rows = analyze_validation(signoff_db, name="credit", version="1", log_id=imported.id)
    valid_source = analyze_validation(signoff_db, name="credit", version="1", log_id=registered.log.id)
    profiles = [
        {k: v for k, v in column.items() if k != "dtype"}
        for column in valid_source.run.result["profile"]["columns"]
    ]
    _assert_same(
        [{k: v for k, v in c.items() if k != "dtype"} for c in valid_rows.run.result["profile"]["columns"]],
        profiles,
    )
    assert valid_source.run.result["profile"]["rows"] == len(frame)

    reference_path = path.parent / f"reference-{engine}.parquet"
    _log_frame(n=1800, seed=21).to_parquet(reference_path, index=False)
    reference = import_log(signoff_db, reference_path, model="credit", version="1", mapping=MAPPING).log
    drift_rows = analyze_drift(
        signoff_db, name="credit", version="1", reference_log_id=reference.id, current_log_id=imported.id
    )
    drift_source = analyze_drift(
        signoff_db,
        name="credit",
        version="1",
        reference_log_id=reference.id,
        current_log_id=registered.log.id,
    )
    assert [c["column"] for c in drift_source.run.result["columns"]] == ["p1", "yhat"]
    _assert_same(drift_rows.run.result, drift_source.run.result)
    assert "current_state" in drift_source.run.inputs

    source = fair_source.run.result["source"]
    assert source["engine"] == engine and not source["changed_since_registration"]
    assert "GROUP BY" in source["sql"].upper()
    with signoff_db.transaction(write=False) as uow:
        counts = pd.read_parquet(io.BytesIO(uow.evidence.read_bytes(source["count_table_sha256"])))
    assert counts["__rows"].sum() == len(frame) and len(counts) < len(frame)


def test_histogram_auc_is_within_its_stated_bound(log_rows, signoff_db, tmp_path, monkeypatch):
    frame = _log_frame(n=3000, seed=11)
    frame["p1"] = np.random.default_rng(5).random(len(frame))  # continuous scores
    frame["y"] = (np.random.default_rng(6).random(len(frame)) < frame["p1"]).astype(np.int64)
    path = tmp_path / "continuous.parquet"
    frame.to_parquet(path, index=False)
    monkeypatch.setattr(sources_service, "EXACT_SCORE_LIMIT", 100)  # so 3,000 distinct scores use bins
    registered = register_source(
        signoff_db, model="credit", version="1", url=f"duckdb://{path}", mapping=MAPPING
    )
    run = analyze_fairness(signoff_db, name="credit", version="1", log_id=registered.log.id, n_resamples=0)
    assert run.run.result["source"]["score_resolution"] == pytest.approx(0.001)
    exact = roc_auc_score(frame["y"], frame["p1"])
    overall = run.result.overall.metrics
    assert 0 < overall["roc_auc_error_bound"] < 0.01
    assert abs(overall["roc_auc"] - exact) <= overall["roc_auc_error_bound"]
    for segment in run.result.segments:
        for group in segment.groups:
            rows = frame[_members(frame, segment.attributes, group.group)]
            if rows["y"].nunique() == 2:
                truth = roc_auc_score(rows["y"], rows["p1"])
                assert abs(group.metrics["roc_auc"] - truth) <= group.metrics["roc_auc_error_bound"] + 1e-12
    # the counts themselves stay exact: selection rates equal the rows'
    female = frame[frame["sex"] == "Female"]
    sex = next(s for s in run.result.segments if s.name == "sex")
    assert sex.groups[0].metrics["selection_rate"] == pytest.approx(female["yhat"].mean(), rel=1e-12)


def _members(frame: pd.DataFrame, attributes, label: str) -> pd.Series:
    mask = pd.Series(True, index=frame.index)
    for attribute, value in zip(attributes, label.split(" & "), strict=True):
        column = frame[attribute].fillna("Unknown")
        mask &= column == value
    return mask


def test_a_changed_source_is_analysed_afresh_and_says_so(db, tmp_path):
    """On both Signoff databases (SQLite and PostgreSQL): the source row, the runs and their evidence."""
    signoff_db = db
    add_model_version(signoff_db, name="credit", version="1")
    frame = _log_frame(n=600)
    path = tmp_path / "log.parquet"
    frame.to_parquet(path, index=False)
    registered = register_source(
        signoff_db, model="credit", version="1", url=f"duckdb://{path}", mapping=MAPPING
    )
    ask = {"name": "credit", "version": "1", "log_id": registered.log.id, "n_resamples": 0}
    first = analyze_fairness(signoff_db, **ask)
    assert analyze_fairness(signoff_db, **ask).run.id == first.run.id  # unchanged: the stored run
    frame.iloc[:500].to_parquet(path, index=False)  # rows deleted at the source
    second = analyze_fairness(signoff_db, **ask)
    assert second.run.id != first.run.id and second.result.n_rows == 500
    assert second.run.result["source"]["changed_since_registration"] is True
    assert "changed since it was registered" in second.run.result["source"]["change_note"]


def test_a_delta_table_is_fingerprinted_by_its_version(signoff_db, tmp_path):
    """A Delta table written by delta-rs: registered with its table version, analysed like the imported
    rows, and a new commit makes the next run say the source changed, naming the versions."""
    from deltalake import DeltaTable, write_deltalake

    frame = _log_frame(n=900, seed=4)
    folder = tmp_path / "predictions_delta"
    write_deltalake(folder, frame.iloc[:600])
    write_deltalake(folder, frame.iloc[600:], mode="append")  # version 1: two files
    registered = register_source(
        signoff_db, model="credit", version="1", url=f"duckdb://{folder}", mapping=MAPPING
    )
    assert registered.log.rows == len(frame)
    stored = sources_service.get_source(signoff_db, registered.log.id)
    assert stored.fingerprint["format"] == "delta"
    assert stored.fingerprint["table_version"] == DeltaTable(folder).version() == 1
    assert "deltalake" in stored.engine_version

    rows_path = tmp_path / "rows.parquet"
    frame.to_parquet(rows_path, index=False)
    imported = import_log(signoff_db, rows_path, model="credit", version="1", mapping=MAPPING).log
    ask = {"name": "credit", "version": "1", "n_resamples": 100, "seed": 2}
    on_rows = analyze_fairness(signoff_db, log_id=imported.id, **ask)
    on_delta = analyze_fairness(signoff_db, log_id=registered.log.id, **ask)
    _assert_same(on_rows.run.result, on_delta.run.result)
    female = frame[frame["sex"] == "Female"]  # oracle: a selection rate counted on the rows by pandas
    sex = next(s for s in on_delta.result.segments if s.name == "sex")
    assert sex.groups[0].metrics["selection_rate"] == pytest.approx(female["yhat"].mean(), rel=1e-12)
    assert on_delta.run.result["source"]["changed_since_registration"] is False
    assert analyze_fairness(signoff_db, log_id=registered.log.id, **ask).run.id == on_delta.run.id
    # partitioned by race: the partition values live in the log, so delta-rs' Arrow dataset is scanned
    partitioned = tmp_path / "by_race_delta"
    write_deltalake(partitioned, frame, partition_by=["race"])
    by_race = register_source(
        signoff_db, model="credit", version="1", url=f"duckdb://{partitioned}", mapping=MAPPING
    )
    assert by_race.log.rows == len(frame)
    _assert_same(on_rows.run.result, analyze_fairness(signoff_db, log_id=by_race.log.id, **ask).run.result)

    write_deltalake(folder, _log_frame(n=50, seed=9), mode="append")  # a new commit: version 2
    after = analyze_fairness(signoff_db, log_id=registered.log.id, **ask)
    assert after.run.id != on_delta.run.id and after.result.n_rows == len(frame) + 50
    source = after.run.result["source"]
    assert source["changed_since_registration"] is True and source["fingerprint"]["table_version"] == 2
    assert "Delta table version 1 then, 2 now" in source["change_note"]
    assert str(folder) in source["change_note"]


def test_an_iceberg_table_is_fingerprinted_by_its_version(signoff_db, tmp_path):
    """An Iceberg table written by pyiceberg (a SQLite catalog, files in a local warehouse), registered
    by its folder: the same counts as the imported rows; a commit makes the next run say it changed."""
    import pyarrow as pa
    from pyiceberg.catalog.sql import SqlCatalog
    from pyiceberg.types import StringType

    frame = _log_frame(n=700, seed=5)
    frame["ts"] = frame["ts"].dt.tz_convert("UTC").astype("datetime64[us, UTC]")  # Iceberg keeps microseconds
    catalog = SqlCatalog(
        "local", uri=f"sqlite:///{tmp_path / 'catalog.db'}", warehouse=f"file://{tmp_path / 'warehouse'}"
    )
    catalog.create_namespace("credit")
    rows = pa.Table.from_pandas(frame, preserve_index=False)
    table = catalog.create_table("credit.predictions", schema=rows.schema)
    table.append(rows)
    folder = urlsplit(table.location()).path
    registered = register_source(
        signoff_db, model="credit", version="1", url=f"duckdb://{folder}", mapping=MAPPING
    )
    assert registered.log.rows == len(frame)
    stored = sources_service.get_source(signoff_db, registered.log.id)
    assert stored.fingerprint["format"] == "iceberg" and stored.fingerprint["table_version"] == 1
    assert stored.fingerprint["snapshot_id"] == table.current_snapshot().snapshot_id

    rows_path = tmp_path / "rows.parquet"
    frame.to_parquet(rows_path, index=False)
    imported = import_log(signoff_db, rows_path, model="credit", version="1", mapping=MAPPING).log
    ask = {"name": "credit", "version": "1", "n_resamples": 50, "seed": 4}
    on_rows = analyze_fairness(signoff_db, log_id=imported.id, **ask)
    on_iceberg = analyze_fairness(signoff_db, log_id=registered.log.id, **ask)
    _assert_same(on_rows.run.result, on_iceberg.run.result)
    assert on_iceberg.result.n_rows == len(frame)

    table.append(rows.slice(0, 40))
    after = analyze_fairness(signoff_db, log_id=registered.log.id, **ask)
    assert after.result.n_rows == len(frame) + 40
    assert "Iceberg table version 1 then, 2 now" in after.run.result["source"]["change_note"]

    with table.update_schema() as update:  # files written before a schema change are not read by name
        update.add_column("note", StringType())
    with pytest.raises(InputError, match=r"Iceberg table of the source .* has changed its schema"):
        analyze_fairness(signoff_db, log_id=registered.log.id, **ask)


def test_bad_sources_are_refused_by_name_and_nothing_is_recorded(signoff_db, tmp_path, dump_tables):
    frame = _log_frame(n=200)
    path = tmp_path / "log.parquet"
    frame.to_parquet(path, index=False)
    before = dump_tables(signoff_db.url)

    def register(url: str, mapping: ColumnMapping = MAPPING, **kw):
        return register_source(signoff_db, model="credit", version="1", url=url, mapping=mapping, **kw)

    with pytest.raises(InputError, match=r"column 'outcome'.*has no column 'outcome'") as missing:
        register(f"duckdb://{path}", ColumnMapping(label="outcome", prediction="yhat"))
    assert str(path) in str(missing.value)
    with pytest.raises(InputError, match=r"column 'sex'.*holds string in the score column 'sex'"):
        register(f"duckdb://{path}", ColumnMapping(label="y", prediction="yhat", scores=("sex",)))
    with pytest.raises(InputError, match="names a file that does not exist"):
        register(f"duckdb://{tmp_path / 'gone.parquet'}")
    database = tmp_path / "warehouse.duckdb"
    import duckdb

    with duckdb.connect(str(database)) as con:
        con.execute(f"CREATE TABLE predictions AS SELECT * FROM read_parquet('{path}')")
    with pytest.raises(InputError, match=r"warehouse.duckdb.*no table 'predicted'"):
        register(f"duckdb://{database}", table="predicted")
    with pytest.raises(InputError, match="name the log's table or give a query"):
        register(f"duckdb://{database}")
    with pytest.raises(
        ExternalServiceError,
        match=r"cannot reach the postgres source postgresql\+psycopg://someone@127.0.0.1:9/",
    ):
        register("postgresql+psycopg://someone:s3cret@127.0.0.1:9/warehouse", table="predictions")
    with pytest.raises(ExternalServiceError, match=r"cannot reach the spark source sc://127.0.0.1:9"):
        register("sc://127.0.0.1:9", table="predictions")
    with pytest.raises(InputError, match="names no engine"):
        register("mysql://127.0.0.1/x", table="t")
    broken = tmp_path / "broken_delta"
    (broken / "_delta_log").mkdir(parents=True)  # a Delta folder with no commit in its log
    with pytest.raises(InputError, match=r"Delta table of the source duckdb://.*broken_delta cannot be read"):
        register(f"duckdb://{broken}")
    assert dump_tables(signoff_db.url) == before


def test_a_cancelled_query_stops_the_engine_and_records_nothing(signoff_db, tmp_path, dump_tables):
    database = tmp_path / "slow.duckdb"
    import duckdb

    with duckdb.connect(str(database)) as con:  # a view that takes the engine many seconds to count
        con.execute(
            "CREATE VIEW predictions AS SELECT (a.range % 2)::BIGINT AS y, (b.range % 2)::BIGINT AS yhat, "
            "'x' AS sex, 'y' AS race, 0.5 AS p1, TIMESTAMP '2026-01-01' AS ts "
            "FROM range(100000) a, range(100000) b"
        )
    before = dump_tables(signoff_db.url)
    calls = []

    def cancelled() -> bool:
        calls.append(1)
        return len(calls) > 3  # after ~0.3 s of the first query

    with pytest.raises(Cancelled, match=r"slow\.duckdb"):
        register_source(
            signoff_db,
            model="credit",
            version="1",
            url=f"duckdb://{database}",
            table="predictions",
            mapping=MAPPING,
            cancelled=cancelled,
        )
    assert dump_tables(signoff_db.url) == before


def test_credentials_never_reach_the_database(postgres_server, signoff_db, tmp_path, dump_tables):
    import ibis

    url = postgres_server.create_database()
    name = url.rsplit("/", 1)[1]
    con = ibis.postgres.connect(host="127.0.0.1", port=postgres_server.port, user="postgres", database=name)
    con.create_table("predictions", _log_frame(n=100))
    con.disconnect()
    with_password = f"postgresql+psycopg://postgres:s3cret-pw@127.0.0.1:{postgres_server.port}/{name}"
    registered = register_source(
        signoff_db, model="credit", version="1", url=with_password, table="predictions", mapping=MAPPING
    )
    assert "s3cret" not in registered.log.source_name
    dump = repr(dump_tables(signoff_db.url))
    assert "s3cret" not in dump and f"127.0.0.1:{postgres_server.port}/{name}" in dump
    with signoff_db.transaction(write=False) as uow:
        assert b"s3cret" not in uow.evidence.read_bytes(registered.log.evidence_sha256)
    with pytest.raises(InputError, match="rows stay where they live"):
        load_log_frame(signoff_db, registered.log.id)


def test_drift_from_value_counts_equals_drift_from_rows_beyond_the_exact_ks_size():
    """Above 10,000 rows a side ks_2samp is asymptotic and the counts are not expanded: weighted
    quantiles, bins, KS and Wasserstein must still equal the rows' (scipy on the rows is the oracle)."""
    from signoff.analysis.counted import ValueCounts
    from signoff.analysis.drift import run_drift

    rng = np.random.default_rng(8)
    reference = pd.DataFrame({"p1": np.round(rng.random(12_000), 3), "yhat": rng.integers(0, 2, 12_000)})
    current = pd.DataFrame(
        {"p1": np.round(np.clip(rng.random(15_000) + 0.03, 0, 1), 3), "yhat": rng.integers(0, 2, 15_000)}
    )
    rows = run_drift(reference, current, columns=["p1", "yhat"], categorical=["yhat"]).to_dict()
    counted = {c: ValueCounts.of(current[c]) for c in current}
    assert len(counted["p1"].counts) < 1100
    _assert_same(rows, run_drift(reference, counted, columns=["p1", "yhat"], categorical=["yhat"]).to_dict())


def test_multiclass_performance_on_a_source_equals_the_imported_log(signoff_db, tmp_path):
    rng = np.random.default_rng(12)
    n = 900
    frame = pd.DataFrame(
        {
            "y": rng.choice(["low", "mid", "high"], n),
            "yhat": rng.choice(["low", "mid", "high"], n),
            "sex": rng.choice(["F", "M"], n),
        }
    )
    path = tmp_path / "multiclass.parquet"
    frame.to_parquet(path, index=False)
    mapping = ColumnMapping(label="y", prediction="yhat", sensitive=("sex",))
    registered = register_source(
        signoff_db, model="credit", version="1", url=f"duckdb://{path}", mapping=mapping
    )
    assert registered.log.validation.task == "multiclass"
    imported = import_log(signoff_db, path, model="credit", version="1", mapping=mapping).log
    ask = {"name": "credit", "version": "1", "n_resamples": 100}
    rows = analyze_performance(signoff_db, log_id=imported.id, **ask)
    pushed = analyze_performance(signoff_db, log_id=registered.log.id, **ask)
    assert pushed.result.task == "multiclass"
    _assert_same(rows.run.result, pushed.run.result)
    # oracle: accuracy counted on the rows themselves
    assert pushed.result.overall.metrics["accuracy"] == pytest.approx(
        (frame["y"] == frame["yhat"]).mean(), rel=1e-12
    )


def _within(column: dict, truth: dict) -> None:
    """Each bounded statistic of ``column`` (read in histogram bins) within its stated bound of ``truth``."""
    bounds = column["error_bounds"]
    for statistic in ("ks_statistic", "wasserstein", "wasserstein_normalised"):
        assert 0 < bounds[statistic] < 0.05, (statistic, bounds)
        assert abs(column[statistic] - truth[statistic]) <= bounds[statistic] + 1e-12, statistic
    assert "histogram bins of width 0.001" in column["notes"][-1]


def test_drift_on_a_source_with_many_distinct_scores_is_within_its_stated_bound(
    signoff_db, tmp_path, monkeypatch
):
    rng = np.random.default_rng(31)
    current, reference = _log_frame(n=3000, seed=32), _log_frame(n=2500, seed=33)
    current["p1"] = np.clip(rng.random(len(current)) ** 0.9, 0, 1)  # continuous: 3,000 distinct scores
    reference["p1"] = rng.random(len(reference))
    current_path, reference_path = tmp_path / "current.parquet", tmp_path / "reference.parquet"
    current.to_parquet(current_path, index=False)
    reference.to_parquet(reference_path, index=False)
    monkeypatch.setattr(sources_service, "EXACT_SCORE_LIMIT", 100)  # so 3,000 distinct scores use bins
    source = register_source(
        signoff_db, model="credit", version="1", url=f"duckdb://{current_path}", mapping=MAPPING
    ).log
    imported = import_log(signoff_db, current_path, model="credit", version="1", mapping=MAPPING).log
    ref = import_log(signoff_db, reference_path, model="credit", version="1", mapping=MAPPING).log
    ask = {"name": "credit", "version": "1", "reference_log_id": ref.id}
    on_rows = analyze_drift(signoff_db, current_log_id=imported.id, **ask).run.result["columns"]
    on_source = analyze_drift(signoff_db, current_log_id=source.id, **ask).run.result["columns"]
    assert [c["column"] for c in on_source] == ["p1", "yhat"]
    assert on_source[0]["ks_statistic"] != on_rows[0]["ks_statistic"]  # the bins do change it
    _within(on_source[0], on_rows[0])
    assert on_source[0]["error_bounds"]["resolution"] == pytest.approx(0.001)
    assert "error_bounds" not in on_source[1] and "error_bounds" not in on_rows[0]  # yhat: exact counts


def test_drift_of_two_binned_sides_beyond_the_exact_ks_size_is_within_its_stated_bound():
    """Both sides in 0.001 bins and above 10,000 rows (the counts are not expanded); scipy on the
    unbinned rows is the oracle."""
    from scipy.stats import ks_2samp, wasserstein_distance

    from signoff.analysis.counted import ValueCounts
    from signoff.analysis.drift import run_drift

    rng = np.random.default_rng(34)
    reference, current = rng.beta(2, 5, 12_000), rng.beta(2.3, 5, 15_000)

    def binned(values: np.ndarray) -> ValueCounts:
        edges = pd.Series(np.floor(values * 1000) / 1000, name="p1")
        return ValueCounts(**{**ValueCounts.of(edges).__dict__, "resolution": 0.001})

    result = run_drift({"p1": binned(reference)}, {"p1": binned(current)}, columns=["p1"]).to_dict()
    column = result["columns"][0]
    spread = np.std(reference)
    truth = {
        "ks_statistic": ks_2samp(reference, current).statistic,
        "wasserstein": wasserstein_distance(reference, current),
        "wasserstein_normalised": wasserstein_distance(reference, current) / spread,
    }
    _within(column, truth)


def test_spark_and_iceberg_sources_without_their_extras_name_the_extra(subprocess_env, tmp_path):
    """In a process where pyspark and pyiceberg cannot be imported (as without ``signoff[spark]`` and
    ``signoff[iceberg]``), such a source is refused with the extra to install, before any connection."""
    import subprocess
    import sys

    iceberg = tmp_path / "iceberg_table"
    (iceberg / "metadata").mkdir(parents=True)
    (iceberg / "metadata" / "v1.metadata.json").write_text("{}")
    probe = (
        "import importlib.abc, sys\n"
        "class Missing(importlib.abc.MetaPathFinder):\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in ('pyspark', 'pyiceberg'):\n"
        "            raise ImportError(name + ' is not installed')\n"
        "sys.meta_path.insert(0, Missing())\n"
        "from signoff.domain.errors import InputError\n"
        "from signoff.importers.log_source import open_source\n"
        f"for url, table in (('sc://127.0.0.1:9', 'predictions'), ('duckdb://{iceberg}', None)):\n"
        "    try:\n"
        "        open_source(url, table=table)\n"
        "    except InputError as error:\n"
        "        print(error)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], env=subprocess_env, capture_output=True, text=True, check=True
    )
    spark, iceberg_error = out.stdout.strip().splitlines()
    assert "sc://127.0.0.1:9" in spark and "pip install 'signoff[spark]'" in spark, out.stderr
    assert "iceberg_table" in iceberg_error and "pip install 'signoff[iceberg]'" in iceberg_error


def test_a_source_runs_count_tables_come_from_its_stored_count_table_and_give_its_numbers(
    log_rows, signoff_db
):
    """The report's count tables for a run of a source: read from the count table the run stored (the
    source itself is not asked again), and every number of the run derived from them again."""
    frame, path = log_rows
    registered = register_source(
        signoff_db, model="credit", version="1", url=f"duckdb://{path}", mapping=MAPPING
    )
    ask = {"name": "credit", "version": "1", "log_id": registered.log.id, "n_resamples": 100, "seed": 5}
    runs = [analyze_fairness(signoff_db, **ask).run, analyze_performance(signoff_db, **ask).run]
    runs.append(analyze_monitoring(signoff_db, name="credit", version="1", log_id=registered.log.id).run)
    profiled = analyze_validation(signoff_db, name="credit", version="1", log_id=registered.log.id).run
    runs.append(profiled)
    imported = import_log(signoff_db, path, model="credit", version="1", mapping=MAPPING).log
    ask = {"name": "credit", "version": "1", "reference_log_id": imported.id}
    drifted = analyze_drift(signoff_db, current_log_id=registered.log.id, **ask).run
    runs.append(drifted)
    path.rename(path.with_suffix(".moved"))  # the source is gone: only the stored evidence can serve
    try:
        tables = count_tables(signoff_db, runs)
    finally:
        path.with_suffix(".moved").rename(path)
    content = {
        "payload": {"analysis_runs": [r.to_dict() for r in runs], "prediction_logs": []},
        "sections": [],
    }
    done = recompute(content, tables)
    assert done.differences == [] and done.checked > 500
    # the engine profiled the source and counted its values for drift: no count table to derive them from
    reason = "computed by the engine where the data lives, which kept no count table"
    assert sorted(done.not_recomputed) == sorted(
        [f"validation run {profiled.id} ({reason})", f"drift run {drifted.id} ({reason})"]
    )
    (fairness,) = [e for e in tables["runs"] if e["kind"] == "fairness"]
    result = fairness_from_counts(FairnessCounts.from_dict(fairness["tables"]))
    (sex,) = [s for s in result.segments if s.name == "sex"]
    (female,) = [g for g in sex.groups if g.group == "Female"]
    rows = frame[frame["sex"] == "Female"]
    assert female.count == len(rows)
    assert female.metrics["selection_rate"] == rows["yhat"].mean()
    (monitoring,) = [e for e in tables["runs"] if e["kind"] == "monitoring"]
    weeks = frame.groupby(frame["ts"].dt.tz_localize(None).dt.to_period("W-SUN").dt.start_time)["yhat"]
    assert monitoring["tables"]["windows"] == [str(week.date()) for week in weeks.size().index]
    assert monitoring["tables"]["counts"] == weeks.size().tolist()
    assert monitoring["tables"]["positives"] == weeks.sum().tolist()
