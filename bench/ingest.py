"""Ingest throughput beside its ceilings, and the catch-up of a gateway backlog.

Every consumer receives the same QoS 1 stream of small contract payloads from several publisher
processes started together; a run's rate is its readings over the time from the common start to the
last reading stored (or, for ceiling B, counted):

- ceiling A: InfluxDB's own write rate for the same points, batches of 5,000 over HTTP keep-alive;
- ceiling B: a paho-mqtt subscriber that only counts;
- baseline: the naive ingester (``bench.load.naive``: parse, one HTTP write per message);
- floodwatch's ingester, one process (alerts on, and off), and two on a shared subscription.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import load
from bench.harness import (
    REPO,
    BenchError,
    Harness,
    Spread,
    acked,
    last_ack_s,
    metrics,
    proc_stats,
    span_s,
    wait_for,
    write_catalogue,
)
from bench.report import Figure, Report
from bench.scale import Scale
from config.catalogue import load_catalogue
from config.tidy import find_readings, read_readings
from floodwatch.replay import replay
from ingest.decode import Limits, decode
from store.lineproto import encode

PUBLISHERS = 3
MB = 2**20
NO_ALERTS = {"alerts": {"enabled": False}}


@dataclass(frozen=True)
class Result:
    """One consumer run: readings per second, CPU seconds per 1,000 readings, peak RSS in bytes."""

    rate: float
    cpu_per_1000: float
    peak_rss: float


def publish(h: Harness, prefix: str, work: load.Workload) -> float:
    """Publish ``work`` from several processes started together; returns their rate, messages/s."""
    publishers = load.Publishers(h.mqtt_port, prefix, work, PUBLISHERS)
    try:
        publishers.prepare()
        publishers.go_now()
        return publishers.finish()
    finally:
        publishers.stop()


def drained(consumer: load.Consumer, work: load.Workload) -> Result:
    """The report of a held consumer once it has drained ``work``, as a rate from its first message."""
    out = consumer.drain()
    if out["received"] < work.messages:
        raise BenchError(f"{consumer.target.__name__} got {out['received']} of {work.messages} messages")
    seconds = out["last"] - out["first"]
    return Result(work.readings / seconds, out["cpu_s"] / work.readings * 1000, out["peak_rss_bytes"])


def ceiling_a(h: Harness, catalogue: Path, work: load.Workload) -> Result:
    """InfluxDB's raw write rate for the points of ``work`` (decoded and encoded as the ingester does)."""
    run = h.run_settings(catalogue)
    stations = load_catalogue(catalogue)
    limits = Limits(10**6, 10**4, 10**9, 0)
    now_ms = int(time.time() * 1000)
    lines = [
        encode(reading)
        for station, payload in work.share(0, 1)
        for reading in decode(
            f"{run.prefix}/{station}", payload, prefix=run.prefix, stations=stations, limits=limits, arrival_ms=now_ms
        ).readings
    ]
    bodies = ["\n".join(lines[i : i + 5000]).encode() for i in range(0, len(lines), 5000)]
    client = run.client()
    client.create_database()
    started = time.monotonic()
    for body in bodies:
        client.write(body)
    seconds = time.monotonic() - started
    client.close()
    h.drop(run)
    return Result(len(lines) / seconds, 0.0, 0.0)


def ceiling_b(h: Harness, work: load.Workload) -> Result:
    """The rate at which a subscriber that only counts drains ``work`` held by the broker."""
    prefix = f"count-{time.monotonic_ns()}/v1/readings"
    consumer = load.Consumer(load.count, (h.mqtt_port, f"{prefix}/#", work.messages, 900.0))
    try:
        consumer.start()
        publish(h, prefix, work)
        return drained(consumer, work)
    finally:
        consumer.stop()


def naive(h: Harness, catalogue: Path, work: load.Workload) -> Result:
    """The naive ingester's rate (one HTTP write per message) draining ``work`` held by the broker."""
    run = h.run_settings(catalogue)
    consumer = load.Consumer(load.naive, (str(run.path), work.messages, 900.0))
    try:
        consumer.start()
        publish(h, run.prefix, work)
        result = drained(consumer, work)
    finally:
        consumer.stop()
    h.drop(run)
    return result


def floodwatch(h: Harness, catalogue: Path, work: load.Workload, *, replicas: int = 1, alerts: bool = True) -> Result:
    """``floodwatch ingest`` (``replicas`` processes on one shared subscription) draining ``work``.

    Each ingester's persistent session is opened with its subscription first (``hold_session``), the
    stream is published and held by the broker, then the ingesters start: the rate runs from their
    first message received to the last one stored.
    """
    extra: dict[str, Any] = {} if alerts else NO_ALERTS
    first = h.run_settings(catalogue, **extra)
    runs = [first]
    if replicas > 1:
        shared = {"topic_prefix": first.prefix, "shared_group": f"g{time.monotonic_ns()}"}
        database = first.settings.influx.database
        runs = [h.run_settings(catalogue, database=database, mqtt=shared, **extra) for _ in range(replicas)]
    for run in runs:
        subscription = f"{run.prefix}/#"
        if run.settings.mqtt.shared_group:
            subscription = f"$share/{run.settings.mqtt.shared_group}/{subscription}"
        load.hold_session(h.mqtt_port, run.settings.mqtt.client_id, subscription)
    publish(h, first.prefix, work)
    processes = [h.floodwatch(run, "ingest") for run in runs]
    try:
        wait_for(lambda: acked(runs, "received") > 0, 120, "the ingesters received", 0.01)
        before = [proc_stats(p.pid) for p in processes]
        # polled slowly (an answer of /metrics costs the ingester CPU): the span is the ingesters' own
        # times of their first message received and their last acknowledgement
        wait_for(lambda: acked(runs) >= work.messages, 900, "all stored", 0.5)
        after = [proc_stats(p.pid) for p in processes]
        seconds = span_s(runs)
    finally:
        for process in processes:
            h.stop(process)
    h.drop(first)
    cpu = sum(a.cpu_s - b.cpu_s for a, b in zip(after, before, strict=True))
    return Result(work.readings / seconds, cpu / work.readings * 1000, max(a.peak_rss_bytes for a in after))


def live_publishers(h: Harness, work: load.Workload) -> Result:
    """The publishers' own rate into the broker with no subscriber (what a live stream can reach here)."""
    return Result(publish(h, f"nobody-{time.monotonic_ns()}/v1/readings", work) * work.readings / work.messages, 0, 0)


def replay_garonne(h: Harness, readings: int) -> tuple[float, float]:
    """``floodwatch replay --speed max`` of the Garonne 2022 flood into a running ingester (alerts on).

    Returns:
        The end-to-end rate (first publish to last reading stored) and the replay's own publish rate.
    """
    frame = read_readings(find_readings(REPO / "data" / "garonne-jan2022"))
    if readings:
        frame = frame.head(readings)
    run = h.run_settings(REPO / "config" / "catalogues" / "garonne.csv")
    process = h.start_ingester(run)
    try:
        started = time.time()  # wall time: the end is the ingester's own time of its last acknowledgement
        sent = replay(frame, run.settings.mqtt, speed=None, progress=False)
        wait_for(lambda: acked([run]) >= sent.messages, 900, "the replay stored", 0.5)
        seconds = last_ack_s(run) - started
    finally:
        h.stop(process)
    h.drop(run)
    return len(frame) / seconds, sent.rate


def throughput(h: Harness, scale: Scale, report: Report) -> None:
    """Section 1: ingest throughput, CPU and peak RSS beside ceilings A and B and the naive baseline."""
    catalogue = write_catalogue(h.root / "ingest-stations.csv", scale.stations)
    end_ms = int(time.time() * 1000) - 60_000
    work = load.Workload(scale.stations, scale.messages // scale.stations, end_ms)
    small = load.Workload(scale.stations, max(1, scale.naive_messages // scale.stations), end_ms)
    results: dict[str, list[Result]] = {key: [] for key in ("a", "b", "naive", "fw", "fw_noalert", "fw2", "pub")}
    replayed: list[tuple[float, float]] = []
    for _ in range(scale.runs):  # interleaved, so slow drifts of the machine hit every consumer alike
        replayed.append(replay_garonne(h, scale.replay_readings))
        results["pub"].append(live_publishers(h, work))
        results["a"].append(ceiling_a(h, catalogue, work))
        results["b"].append(ceiling_b(h, work))
        results["naive"].append(naive(h, catalogue, small))
        results["fw"].append(floodwatch(h, catalogue, work))
        results["fw_noalert"].append(floodwatch(h, catalogue, work, alerts=False))
        results["fw2"].append(floodwatch(h, catalogue, work, replicas=2, alerts=False))

    def rate(key: str) -> Spread:
        return Spread.of(r.rate for r in results[key])

    a, b, base = rate("a"), rate("b"), rate("naive")
    ceiling = min(a.median, b.median)
    which = "A" if a.median <= b.median else "B"
    stream = (
        f"{work.messages:,} single-reading messages from {PUBLISHERS} publisher processes, QoS 1, "
        f"{scale.stations:,} stations, held by the broker and drained"
    )
    report.add(
        Figure(
            "ingest",
            "ceiling A: InfluxDB raw write, batches of 5,000",
            "readings/s",
            a,
            "ceiling B",
            b.median,
            note="same points, one client, HTTP keep-alive",
        )
    )
    report.add(
        Figure(
            "ingest", "ceiling B: paho subscriber that only counts", "readings/s", b, "ceiling A", a.median, note=stream
        )
    )
    report.add(
        Figure(
            "ingest",
            "live stream: 3 publisher processes into the broker",
            "readings/s",
            rate("pub"),
            "ceiling B",
            b.median,
            note="publishers and consumer share 2 cores, so consumers drain a held stream",
        )
    )
    report.add(
        Figure(
            "ingest",
            "baseline: naive ingester (1 HTTP write per message)",
            "readings/s",
            base,
            f"min(A, B) = {which}",
            ceiling,
            note=f"{small.messages:,} messages a run",
        )
    )
    fw = rate("fw")
    report.add(
        Figure(
            "ingest",
            "floodwatch, 1 process, alerts on ÷ min(A, B)",
            "readings/s",
            fw,
            f"min(A, B) = {which}",
            ceiling,
            "≥ 80 % of min(A, B)",
            fw.median >= 0.8 * ceiling,
        )
    )
    report.add(
        Figure(
            "ingest",
            "floodwatch, 1 process, alerts on ÷ naive",
            "readings/s",
            fw,
            "naive",
            base.median,
            "≥ 25× naive",
            fw.median >= 25 * base.median,
        )
    )
    quiet = rate("fw_noalert")
    report.add(
        Figure(
            "ingest",
            "floodwatch, 1 process, alerts off ÷ min(A, B)",
            "readings/s",
            quiet,
            f"min(A, B) = {which}",
            ceiling,
            "≥ 80 % of min(A, B)",
            quiet.median >= 0.8 * ceiling,
        )
    )
    two = rate("fw2")
    report.add(
        Figure(
            "ingest",
            "floodwatch, 2 processes, shared subscription, alerts off",
            "readings/s",
            two,
            "1 process, alerts off",
            quiet.median,
            "above 1 process",
            two.median > quiet.median,
            note="alerts off: evaluation is not partition-safe across replicas yet",
        )
    )
    report.add(
        Figure("ingest", "floodwatch, 2 processes ÷ min(A, B)", "readings/s", two, f"min(A, B) = {which}", ceiling)
    )
    cpu = Spread.of(r.cpu_per_1000 for r in results["fw"])
    report.add(
        Figure(
            "ingest",
            "floodwatch CPU per 1,000 readings (1 process, alerts on)",
            "CPU s",
            cpu,
            "counting subscriber",
            Spread.of(r.cpu_per_1000 for r in results["b"]).median,
        )
    )
    report.add(
        Figure(
            "ingest",
            "naive ingester CPU per 1,000 readings",
            "CPU s",
            Spread.of(r.cpu_per_1000 for r in results["naive"]),
            "floodwatch",
            cpu.median,
        )
    )
    rss = Spread.of(r.peak_rss / MB for r in results["fw"])
    report.add(
        Figure(
            "ingest",
            "floodwatch peak RSS (1 process, alerts on)",
            "MB",
            rss,
            "counting subscriber",
            Spread.of(r.peak_rss / MB for r in results["b"]).median,
        )
    )
    size = f"{scale.replay_readings:,} first" if scale.replay_readings else "all 119,412"
    report.add(
        Figure(
            "ingest",
            "floodwatch replay --speed max → stored, Garonne 2022, alerts on",
            "readings/s",
            Spread.of(e2e for e2e, _ in replayed),
            "replay's own publish rate",
            Spread.of(pub for _, pub in replayed).median,
            note=f"{size} readings, one publisher (pandas rows to JSON)",
        )
    )


def live_count(h: Harness, work: load.Workload) -> float:
    """The rate at which a counting subscriber, connected while ``work`` is published at once, gets it."""
    prefix = f"count-{time.monotonic_ns()}/v1/readings"
    consumer = load.Consumer(load.count, (h.mqtt_port, f"{prefix}/#", work.messages, 3600.0), held=False)
    publishers = load.Publishers(h.mqtt_port, prefix, work, PUBLISHERS)
    try:
        consumer.start()
        publishers.prepare()
        started = publishers.go_now()
        out = consumer.drain()
        publishers.finish()
    finally:
        publishers.stop()
        consumer.stop()
    return float(work.readings / (out["last"] - started))


def backlog(h: Harness, catalogue: Path, work: load.Workload) -> tuple[float, int, float, float, float]:
    """Publish ``work`` at once to a running ingester.

    Returns:
        Seconds until all is stored, the most messages the broker held meanwhile (published, not yet
        stored), the broker's peak RSS, and the ingester's RSS before and at its peak (bytes),
        sampled every half second.
    """
    run = h.run_settings(catalogue)
    process = h.start_ingester(run)
    publishers = load.Publishers(h.mqtt_port, run.prefix, work, PUBLISHERS)
    broker = h.service_pid("mosquitto")
    samples: list[tuple[int, int]] = [(0, proc_stats(broker).rss_bytes)]
    idle = proc_stats(process.pid).rss_bytes
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(0.5):
            stored = int(metrics(run).get("floodwatch_ingest_messages_acked_total", 0))
            samples.append((publishers.published() - stored, proc_stats(broker).rss_bytes))

    sampler = threading.Thread(target=sample, daemon=True)
    try:
        publishers.prepare()
        sampler.start()
        started = time.time()  # wall time: the end is the ingester's own time of its last acknowledgement
        publishers.go_now()
        wait_for(lambda: acked([run]) >= work.messages, 3600, "backlog stored", 0.5)
        seconds = last_ack_s(run) - started
        peak = proc_stats(process.pid).peak_rss_bytes
        publishers.finish()
    finally:
        stop.set()
        publishers.stop()
        h.stop(process)
    sampler.join()
    h.drop(run)
    return seconds, max(s[0] for s in samples), max(s[1] for s in samples), idle, peak


def catchup(h: Harness, scale: Scale, report: Report) -> None:
    """Section 2: a gateway backlog of 24 h published at once; time until all is stored and evaluated."""
    stations = scale.catchup_stations
    catalogue = write_catalogue(h.root / f"catchup-{stations}.csv", stations)
    work = load.Workload(stations, 288, int(time.time() * 1000) - 60_000, batch=12, storm=0.1)
    idle = proc_stats(h.service_pid("mosquitto")).rss_bytes
    base, runs = [], []
    for _ in range(scale.catchup_runs):
        base.append(live_count(h, work))
        runs.append(backlog(h, catalogue, work))
    seconds = Spread.of(r[0] for r in runs)
    rates = Spread.of(work.readings / r[0] for r in runs)
    held = Spread.of(r[1] for r in runs)
    rss = Spread.of(r[2] / MB for r in runs)
    ingester = Spread.of(r[4] / MB for r in runs)
    asked = 20_000 * 288
    scaled = "" if stations >= 20_000 else f"; scaled from 20,000 stations ({asked:,} readings) to fit the time"
    what = (
        f"{stations:,} stations x 24 h x 5 min = {work.readings:,} readings in {work.messages:,} gateway messages "
        f"of 12, 10 % of stations crossing the warning stage, alerts on{scaled}"
    )
    report.add(
        Figure(
            "catchup",
            "backlog: all stored and alerts evaluated",
            "s",
            seconds,
            "counting subscriber receives it",
            work.readings / Spread.of(base).median,
            note=what,
        )
    )
    report.add(Figure("catchup", "backlog rate", "readings/s", rates, "counting subscriber", Spread.of(base).median))
    report.add(
        Figure(
            "catchup",
            "broker held at most (published, not yet stored)",
            "messages",
            held,
            "backlog messages",
            work.messages,
        )
    )
    report.add(Figure("catchup", "broker peak RSS meanwhile", "MB", rss, "broker RSS idle", idle / MB))
    report.add(
        Figure(
            "catchup",
            "ingester peak RSS (alert history of every station)",
            "MB",
            ingester,
            "ingester RSS at start",
            Spread.of(r[3] / MB for r in runs).median,
        )
    )
    if stations < 20_000:
        report.note(f"catch-up scaled: {what}")
