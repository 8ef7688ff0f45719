"""The history explorer's reads and the export on the real InfluxDB: statistics equal the values known from the
hand-made readings (and the pure functions over every raw reading), exports give back the stored readings, the
hydrological day, clear 400s, 401 behind the login and 503 without InfluxDB."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest
from flask.testing import FlaskClient

from config.catalogue import load_catalogue
from dashboard import data as data_module
from dashboard import stats
from dashboard.app import create_app
from dashboard.data import DataLayer
from floodwatch.services import LocalServices, free_port
from store.readings import DAY_MS, HOUR_MS
from tests.conftest import Env, write_env

pytestmark = pytest.mark.services

ZONE = ZoneInfo("Asia/Shanghai")
MIN = 60_000
STEP = 5 * MIN
T0 = int(datetime(2022, 1, 1, tzinfo=ZONE).timestamp() * 1000)
DAYS = 10
CATALOGUE = """id,name_en,name_zh,kind,quantities,interval_s,warning_m,guaranteed_m,historical_max_m,plaus_min,plaus_max
L1,Level one,一号站,river,level,300,3.0,4.0,5.0,-5,50
L2,Level two,二号站,river,level rain,300,,,,-5,50
L3,Level three,三号站,river,level,300,2.5,2.8,,-5,50
R1,Rain one,一号雨量站,rain,,300,,,,,
R2,Rain two,二号雨量站,rain,,3600,,,,,
"""
#: the range of the statistics: from the second day to the ninth
START, END = T0 + DAY_MS, T0 + 9 * DAY_MS


def l1_value(step: int) -> float | None:
    """L1: below 2.5 but for one flood (84 readings ≥ 3.0, 24 ≥ 4.0, then a 3-hour gap) and a 1-hour rise."""
    if 1000 <= step < 1060:
        return 3.5
    if 1060 <= step < 1084:
        return 4.8 if step == 1070 else 4.2
    if 1084 <= step < 1120:
        return None  # silent: the last reading, 4.2, holds 15 minutes (the stale limit)
    if 2000 <= step < 2012:
        return 3.1
    return round(2.0 + 0.5 * np.sin(step / 40), 3)


def r1_value(step: int) -> float | None:
    """R1, 5-minute amounts: 12 x 1 mm then 12 x 2 mm (36 mm in 2 h, 24 mm in 1 h); 288 x 0.1 mm over a day."""
    if 488 <= step < 500:
        return 1.0
    if 500 <= step < 512:
        return 2.0
    if 1500 <= step < 1788:
        return 0.1
    return 0.0 if step % 6 == 0 else None


@pytest.fixture(scope="module")
def raw() -> pd.DataFrame:
    """Every reading written (time_ms, station, quantity, value, interval_s)."""
    rng = np.random.default_rng(5)
    rows = []
    l3 = 2.5
    for step in range(DAYS * 288):
        time_ms = T0 + step * STEP
        if (value := l1_value(step)) is not None:
            rows.append((time_ms, "L1", "level", value, np.nan))
        rows.append((time_ms, "L2", "level", round(1.0 + step / 10_000, 4), np.nan))
        l3 = float(np.clip(l3 + rng.normal(0, 0.05), 2.0, 3.2))
        rows.append((time_ms + int(rng.integers(0, 50_000)), "L3", "level", round(l3, 3), np.nan))
        if (amount := r1_value(step)) is not None:
            rows.append((time_ms, "R1", "rain", amount, 300.0))
        if step % 288 == 100:
            rows.append((time_ms, "L2", "rain", 1.5, 300.0))
    rows += [(T0 + 3 * DAY_MS, "R2", "rain", 10.0, 3600.0), (T0 + 3 * DAY_MS + HOUR_MS, "R2", "rain", 20.0, 3600.0)]
    return pd.DataFrame(rows, columns=["time_ms", "station", "quantity", "value", "interval_s"])


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory, services: LocalServices, raw: pd.DataFrame) -> Env:
    """A database holding the readings, with the catalogue's thresholds."""
    folder = tmp_path_factory.mktemp("history")
    catalogue = folder / "stations.csv"
    catalogue.write_text(CATALOGUE)
    env = write_env(folder, services, catalogue)
    env.client.create_database()
    lines = []
    for row in raw.itertuples():
        extra = f",interval_s={row.interval_s:.0f}" if row.quantity == "rain" else ""
        lines.append(f'{row.quantity},station={row.station} flags="",lag_s=0{extra},value={row.value} {row.time_ms}')
    for start in range(0, len(lines), 20_000):
        env.client.write("\n".join(lines[start : start + 20_000]).encode())
    return env


@pytest.fixture(scope="module")
def data(store: Env) -> DataLayer:
    """The data layer of the store."""
    return DataLayer(store.client, load_catalogue(store.settings.catalogue), ZONE)


@pytest.fixture(scope="module")
def client(store: Env) -> FlaskClient:
    """The app's Flask test client."""
    return create_app(store.settings).server.test_client()


def own(raw: pd.DataFrame, station: str, quantity: str, start: int = START, end: int = END) -> pd.DataFrame:
    """One station's readings of a quantity in the range (levels [start, end), rain (start, end])."""
    frame = raw[(raw["station"] == station) & (raw["quantity"] == quantity)]
    inside = (frame["time_ms"] >= start) & (frame["time_ms"] < end)
    if quantity == "rain":
        inside = (frame["time_ms"] > start) & (frame["time_ms"] <= end)
    return frame[inside]


def test_event_statistics_equal_what_the_readings_were_made_to_hold(data: DataLayer, raw: pd.DataFrame) -> None:
    """Peak, time at or above each stage, rain total and 1 h / 24 h maxima are what the readings were made to hold."""
    # L1: 84 readings >= 3.0 (the last one held 15 min before a gap) + 12 more; 24 >= 4.0 (the same last one);
    # R1: 64.8 mm, 24 mm in one hour, 36 mm in two; R2: hourly amounts of 10 and 20 mm spread over their hour
    found = {item.station: item for item in data.event_stats(("L1", "L2", "R1", "R2"), START, END)}
    l1 = found["L1"]
    assert (l1.peak_m, l1.peak_ms) == (4.8, T0 + 1070 * STEP)
    assert l1.above == {
        "threshold.warning": (3.0, (83 * 5 + 15 + 12 * 5) * MIN),
        "threshold.guaranteed": (4.0, (23 * 5 + 15) * MIN),
    }
    assert l1.rain_total_mm is None
    r1 = found["R1"]
    assert r1.peak_m is None
    assert r1.rain_total_mm == pytest.approx(64.8)
    assert r1.rain_max["1h"] == stats.WindowMax(24.0, T0 + 511 * STEP)
    assert r1.rain_max["24h"] is not None
    assert r1.rain_max["24h"].total_mm == pytest.approx(36.0)
    r2 = found["R2"]
    assert r2.rain_max["1h"] == stats.WindowMax(20.0, T0 + 3 * DAY_MS + HOUR_MS)
    assert r2.rain_max["24h"] == stats.WindowMax(30.0, T0 + 3 * DAY_MS + HOUR_MS)
    l2 = found["L2"]  # a level station that also measures rain, without thresholds
    assert l2.above == {}
    levels = own(raw, "L2", "level")
    assert (l2.peak_m, l2.peak_ms) == (levels["value"].max(), int(levels["time_ms"].iloc[-1]))
    assert l2.rain_total_mm == pytest.approx(own(raw, "L2", "rain")["value"].sum())


def test_time_above_read_near_the_thresholds_equals_all_raw_readings(data: DataLayer, raw: pd.DataFrame) -> None:
    """A wandering level read only in the hours that reach a stage gives the time of every raw reading in the range."""
    (l3,) = data.event_stats(("L3",), START, END)
    levels = own(raw, "L3", "level")
    for key, threshold in (("threshold.warning", 2.5), ("threshold.guaranteed", 2.8)):
        whole = stats.time_at_or_above(levels, threshold, hold_ms=15 * MIN, end_ms=END)
        assert whole > 0
        assert l3.above[key] == (threshold, whole)


def test_time_above_is_the_same_when_read_over_the_whole_range(
    store: Env, data: DataLayer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With more spans near the stages than MAX_RAW_SPANS the levels are read raw over the range, to the same times."""
    near = data.event_stats(("L1", "L3"), START, END)
    monkeypatch.setattr(data_module, "MAX_RAW_SPANS", 0)
    whole = DataLayer(store.client, data.catalogue, ZONE).event_stats(("L1", "L3"), START, END)
    assert [item.above for item in whole] == [item.above for item in near]


def test_history_reads_each_quantity_at_its_aggregation(data: DataLayer, raw: pd.DataFrame) -> None:
    """Levels come as hourly maxima and rain as hydrological-day totals, each only for the stations measuring it."""
    found = data.history(("L1", "R1"), START, END, "1h", "1d")
    assert set(found.level) == {"L1"}
    assert set(found.rain) == {"R1"}
    levels = own(raw, "L1", "level")
    hourly = levels.groupby(levels["time_ms"] // HOUR_MS * HOUR_MS)["value"].max()
    assert dict(zip(found.level["L1"]["time_ms"], found.level["L1"]["value"], strict=True)) == hourly.to_dict()
    rain = own(raw, "R1", "rain")
    assert found.rain["R1"]["value"].sum() == pytest.approx(rain["value"].sum())


def read_csv(client: FlaskClient, query: str) -> tuple[pd.DataFrame, str]:
    response = client.get(f"/export/readings.csv?{query}")
    assert response.status_code == 200, response.get_data(as_text=True)
    disposition = response.headers["Content-Disposition"]
    return pd.read_csv(io.BytesIO(response.get_data()), dtype={"station": str}), disposition


def local(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).astimezone(ZONE).strftime("%Y-%m-%d %H:%M:%S")


def test_raw_csv_export_gives_back_the_stored_readings(client: FlaskClient, raw: pd.DataFrame) -> None:
    """Every raw reading of the stations in the range comes back once, at its local time, in m and mm."""
    start, end = T0 + 400 * STEP, T0 + 520 * STEP
    times = f"start={local(start).replace(' ', 'T')}&end={local(end).replace(' ', 'T')}"
    query = f"stations=L1,R1&{times}&aggregation=raw&lang=en"
    back, disposition = read_csv(client, query)
    assert disposition == 'attachment; filename="floodwatch_L1-R1_20220102-20220102_raw.csv"'
    time = "time (Asia/Shanghai, UTC+08:00)"
    assert list(back.columns) == [time, "station", "name", "level (m)", "rain (mm)", "rain interval (s)", "aggregation"]
    got = {
        (row[time], row["station"], quantity): row[column]
        for row in back.to_dict("records")
        for quantity, column in (("level", "level (m)"), ("rain", "rain (mm)"))
        if not pd.isna(row[column])
    }
    want = {
        (local(int(row.time_ms)), row.station, row.quantity): row.value
        for station in ("L1", "R1")
        for quantity in ("level", "rain")
        for row in own(raw, station, quantity, start, end).itertuples()
    }
    assert got == want
    assert set(back["aggregation"]) == {"raw"}
    assert set(back.loc[back["station"] == "R1", "name"]) == {"Rain one"}


def test_daily_export_is_by_hydrological_day(client: FlaskClient, raw: pd.DataFrame) -> None:
    """Daily rows run 08:00 to 08:00 local: the rain total of (08:00, 08:00] and the level maximum of [08:00, 08:00)."""
    query = "stations=L1,R1&start=2022-01-02T08:00&end=2022-01-09T08:00&aggregation=1d&lang=zh"
    back, _ = read_csv(client, query)
    start_col, day_col = "时段开始 (Asia/Shanghai, UTC+08:00)", "水文日"
    assert list(back.columns)[:3] == [start_col, "时段结束 (Asia/Shanghai, UTC+08:00)", day_col]
    rain = own(raw, "R1", "rain", T0, T0 + DAYS * DAY_MS)
    level = own(raw, "L1", "level", T0, T0 + DAYS * DAY_MS)
    for row in back.to_dict("records"):
        day = datetime.strptime(row[day_col], "%Y-%m-%d").replace(tzinfo=ZONE)
        opens = int((day + timedelta(hours=8)).timestamp() * 1000)
        assert row[start_col] == local(opens)
        if row["测站编号"] == "R1":
            within = rain[(rain["time_ms"] > opens) & (rain["time_ms"] <= opens + DAY_MS)]
            assert row["时段雨量 (mm)"] == pytest.approx(within["value"].sum())
        else:
            within = level[(level["time_ms"] >= opens) & (level["time_ms"] < opens + DAY_MS)]
            assert row["最高水位 (m)"] == within["value"].max()
    assert sorted(set(back[day_col])) == [f"2022-01-0{d}" for d in range(2, 9)]


def test_xlsx_export_holds_the_same_rows_as_the_csv(client: FlaskClient, store: Env, tmp_path: Path) -> None:
    """The workbook has the title row, the header and the CSV's rows; its temporary file is gone once sent."""
    query = "stations=L1,L2,R1&start=2022-01-03&end=2022-01-05&aggregation=1h&lang=en"
    csv_rows, _ = read_csv(client, query)
    response = client.get(f"/export/readings.xlsx?{query}")
    assert response.status_code == 200
    path = tmp_path / "export.xlsx"
    path.write_bytes(response.get_data())
    response.close()
    assert "hourly: level maximum, rain total" in pd.read_excel(path, header=None, nrows=1).iloc[0, 0]
    book = pd.read_excel(path, skiprows=1)
    assert list(book.columns) == list(csv_rows.columns)
    assert len(book) == len(csv_rows) > 0
    first = "period start (Asia/Shanghai, UTC+08:00)"
    assert book[first].dt.strftime("%Y-%m-%d %H:%M:%S").tolist() == csv_rows[first].tolist()
    assert book["level max (m)"].fillna(-1).tolist() == csv_rows["level max (m)"].fillna(-1).tolist()
    assert not list((store.settings.var_dir / "export").glob("*"))


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("start=2022-01-01&end=2022-01-02", "stations: give one"),
        ("stations=L1,X9&start=2022-01-01&end=2022-01-02", "'X9' is not a station"),
        ("stations=L1&start=2022-13-01&end=2022-01-02", "start: '2022-13-01' is not a time"),
        ("stations=L1&start=2022-01-01&end=2022-01-02&aggregation=week", "aggregation: one of"),
    ],
)
def test_bad_export_parameters_get_a_400_saying_what_is_wrong(client: FlaskClient, query: str, message: str) -> None:
    """A wrong station, time or aggregation is refused with HTTP 400 and a plain message."""
    for fmt in ("csv", "xlsx"):
        response = client.get(f"/export/readings.{fmt}?{query}")
        assert response.status_code == 400
        assert message in response.get_data(as_text=True)


def test_export_needs_a_login_when_pages_do_and_says_when_influxdb_is_down(store: Env, tmp_path: Path) -> None:
    """With dashboard.login_required nobody logged in gets 401; an InfluxDB that does not answer gives 503."""
    dashboard = store.settings.dashboard.model_copy(update={"login_required": True})
    gated = create_app(store.settings.model_copy(update={"dashboard": dashboard, "var_dir": tmp_path})).server
    response = gated.test_client().get("/export/readings.csv?stations=L1&start=2022-01-01&end=2022-01-02")
    assert response.status_code == 401
    influx = store.settings.influx.model_copy(update={"url": f"http://127.0.0.1:{free_port()}", "timeout_s": 2})
    down = create_app(store.settings.model_copy(update={"influx": influx, "var_dir": tmp_path})).server.test_client()
    for fmt in ("csv", "xlsx"):
        response = down.get(f"/export/readings.{fmt}?stations=L1&start=2022-01-01&end=2022-01-02")
        assert response.status_code == 503
        assert "InfluxDB does not answer" in response.get_data(as_text=True)
    assert not list((tmp_path / "export").glob("*"))
