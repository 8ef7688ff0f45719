"""Export of what the history explorer shows: ``/export/readings.csv`` and ``/export/readings.xlsx``, streamed.

**Rows**: one per station and time (raw) or per station and period (aggregated), levels and rain of
the same station side by side:

- raw: ``time``, ``station``, ``name``, ``level (m)``, ``rain (mm)``, ``rain interval (s)``,
  ``aggregation``: a rain amount is stamped at the end of its interval, as stored;
- 5m, 1h, 1d: ``period start``, ``period end`` (and for 1d the ``hydrological day``, 08:00 to
  08:00 local), ``station``, ``name``, ``level max (m)`` over ``[start, end)``, ``rain total (mm)``
  over ``(start, end]``, ``aggregation``.

Times are local wall times in the center's zone, which the time columns' headers name with its UTC
offset: ``time (Asia/Shanghai, UTC+08:00)``. Headers follow ``lang`` (zh or en).

**CSV**: UTF-8 with a byte-order mark (Excel then reads the Chinese names right; ``pandas.read_csv``
skips it), a plain header line and no comment line, so that both read it as it is; the
aggregation is in the file name and in the ``aggregation`` column of every row. Rows are written as
``store.readings.stream`` yields them, a window at a time: memory stays flat whatever the range.

**xlsx**: a title row (what, aggregation in words, zone, range), the header, then the rows; times are
Excel date-times. ``xlsxwriter`` in ``constant_memory`` mode writes each row to disk as it comes, in
a temporary file under ``var_dir`` that is then streamed and removed. A sheet holds at most
1,048,576 rows: the rows go on in a second sheet, and so on.

Parameters are checked by ``dashboard.explorer.parse_export`` (HTTP 400 with the reason). With
``dashboard.login_required`` the login gate of ``dashboard.auth`` answers 401 to anyone not logged in.
"""

from __future__ import annotations

import csv
import io
import itertools
import os
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Final
from zoneinfo import ZoneInfo

import xlsxwriter
from flask import Flask, Response, request

from config.hydrotime import hydro_day_bounds_ms, hydro_day_of
from config.i18n import t
from dashboard import explorer
from dashboard.context import Context
from dashboard.data import DataUnavailableError
from store.readings import BUCKET_MS, Row

CSV_MIME: Final = "text/csv; charset=utf-8"
XLSX_MIME: Final = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
#: rows per sheet of an xlsx workbook (Excel's limit), title and header included
SHEET_ROWS: Final = 1_048_576
#: CSV rows per chunk sent
CHUNK_ROWS: Final = 2000
#: days from Excel's epoch (1899-12-30) to 1970-01-01
EXCEL_EPOCH_DAYS: Final = 25569


@dataclass(frozen=True)
class Record:
    """One exported row: a station at a time (raw) or over a period."""

    start_ms: int
    end_ms: int | None  # None: raw
    day: date | None  # the hydrological day (1d)
    station: str
    level: float | None
    rain: float | None
    interval_s: int | None


def period(row: Row, aggregation: str, zone: ZoneInfo) -> tuple[int, int | None, date | None]:
    """The period of a row: (start, end, hydrological day); a raw reading is its own time."""
    if aggregation == "raw":
        return row.time_ms, None, None
    if aggregation == "1d":
        # levels are stamped at the day's start (08:00), rain at its end (08:00 the next day)
        day = hydro_day_of(row.time_ms + (1 if row.quantity == "level" else 0), zone)
        start, end = hydro_day_bounds_ms(day, zone)
        return start, end, day
    bucket = BUCKET_MS[aggregation]
    start = row.time_ms if row.quantity == "level" else row.time_ms - bucket
    return start, start + bucket, None


def records(rows: Iterable[Row], aggregation: str, zone: ZoneInfo) -> Iterator[Record]:
    """Rows of ``store.readings.stream`` joined into records: a station's level and rain of one period together.

    A rain bucket is stamped at its end, so it arrives with the levels of the next period: a period
    is written once the stream has passed it by two buckets (a day of 25 hours included).
    """
    pending: dict[tuple[int, str], list[Any]] = {}
    delay = 2 * BUCKET_MS[aggregation]
    for row in rows:
        start, end, day = period(row, aggregation, zone)
        done = [key for key in pending if key[0] + delay < row.time_ms]
        if done:
            yield from _flush(pending, sorted(done))
        entry = pending.setdefault((start, row.station), [end, day, None, None, None])
        if row.quantity == "level":
            entry[2] = row.value
        else:
            entry[3] = row.value if entry[3] is None else entry[3] + row.value
            entry[4] = row.interval_s
    yield from _flush(pending, sorted(pending))


def _flush(pending: dict[tuple[int, str], list[Any]], keys: list[tuple[int, str]]) -> Iterator[Record]:
    for key in keys:
        end, day, level, rain, interval = pending.pop(key)
        yield Record(key[0], end, day, key[1], level, rain, interval)


class LocalClock:
    """UTC ms as local wall time in a zone, remembered for the last time asked (rows come in time order)."""

    def __init__(self, zone: ZoneInfo) -> None:
        self.zone = zone
        self._last: tuple[int, datetime] | None = None

    def local(self, ms: int) -> datetime:
        """The aware local time."""
        if self._last is None or self._last[0] != ms:
            self._last = (ms, datetime.fromtimestamp(ms / 1000, UTC).astimezone(self.zone))
        return self._last[1]

    def text(self, ms: int) -> str:
        """``2022-01-11 14:15:00``."""
        return self.local(ms).strftime("%Y-%m-%d %H:%M:%S")

    def excel(self, ms: int) -> float:
        """An Excel date-time serial of the local wall time."""
        local = self.local(ms)
        offset = local.utcoffset()
        wall = ms + (int(offset.total_seconds() * 1000) if offset else 0)
        return wall / 86_400_000 + EXCEL_EPOCH_DAYS


def zone_name(zone: ZoneInfo, at_ms: int) -> str:
    """``Asia/Shanghai, UTC+08:00``: the zone and its offset at ``at_ms``."""
    offset = datetime.fromtimestamp(at_ms / 1000, UTC).astimezone(zone).strftime("%z")
    return f"{zone.key}, UTC{offset[:3]}:{offset[3:]}"


def header(aggregation: str, zone: ZoneInfo, at_ms: int, language: str) -> list[str]:
    """The column names of an export (module doc), in ``language``, the zone named in the time columns'."""
    where = zone_name(zone, at_ms)
    if aggregation == "raw":
        times = [t(language, "export.col.time").format(zone=where)]
        values = ["export.col.level", "export.col.rain", "export.col.interval"]
    else:
        times = [t(language, "export.col.start").format(zone=where), t(language, "export.col.end").format(zone=where)]
        if aggregation == "1d":
            times.append(t(language, "export.col.day"))
        values = ["export.col.level_max", "export.col.rain_total"]
    names = [t(language, key) for key in ("export.col.station", "export.col.name", *values, "export.col.aggregation")]
    return times + names


def _number(value: float | None) -> float | None:
    return None if value is None else round(value, 6)


def cells(record: Record, aggregation: str, names: Mapping[str, str]) -> list[Any]:
    """The record's values in ``header`` order (times as UTC ms, missing values None)."""
    times: list[Any] = [record.start_ms]
    if aggregation != "raw":
        times.append(record.end_ms)
        if aggregation == "1d":
            times.append(record.day.isoformat() if record.day else None)
    values: list[Any] = [_number(record.level), _number(record.rain)]
    if aggregation == "raw":
        values.append(record.interval_s)
    return [*times, record.station, names.get(record.station, ""), *values, aggregation]


def _time_columns(aggregation: str) -> int:
    return 1 if aggregation == "raw" else 2


def csv_chunks(
    found: Iterable[Record], aggregation: str, names: Mapping[str, str], clock: LocalClock, columns: list[str]
) -> Iterator[str]:
    """The CSV text (BOM, header, rows), a few thousand rows a chunk."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    buffer.write("\ufeff")
    writer.writerow(columns)
    timed = _time_columns(aggregation)
    for count, record in enumerate(found, 1):
        row = cells(record, aggregation, names)
        row[:timed] = [clock.text(ms) for ms in row[:timed]]
        writer.writerow(["" if cell is None else cell for cell in row])
        if count % CHUNK_ROWS == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue()


def write_xlsx(  # noqa: PLR0917 - what the workbook is made of
    path: Path,
    found: Iterable[Record],
    aggregation: str,
    names: Mapping[str, str],
    clock: LocalClock,
    columns: list[str],
    title: str,
    sheet: str,
    *,
    sheet_rows: int = SHEET_ROWS,
) -> int:
    """Write the records to a workbook at ``path`` row by row (``constant_memory``); returns the rows written.

    A sheet holds ``sheet_rows`` rows, its title and header included; the next rows go on in the next sheet.
    """
    workbook = xlsxwriter.Workbook(str(path), {"constant_memory": True, "tmpdir": str(path.parent)})
    bold = workbook.add_format({"bold": True})
    when = workbook.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
    timed = _time_columns(aggregation)
    count = 0
    worksheet: Any = None
    row_index = sheet_rows
    for record in found:
        if row_index >= sheet_rows:
            number = count // (sheet_rows - 2) + 1
            worksheet = workbook.add_worksheet(sheet if number == 1 else f"{sheet} {number}")
            worksheet.set_column(0, timed - 1, 20)
            worksheet.set_column(timed, len(columns) - 1, 14)
            worksheet.write_string(0, 0, title, bold)
            worksheet.write_row(1, 0, columns, bold)
            row_index = 2
        row = cells(record, aggregation, names)
        for column in range(timed):
            worksheet.write_number(row_index, column, clock.excel(row[column]), when)
        for column in range(timed, len(row)):
            value = row[column]
            if value is None:
                continue
            if isinstance(value, str):
                worksheet.write_string(row_index, column, value)
            else:
                worksheet.write_number(row_index, column, value)
        row_index += 1
        count += 1
    if worksheet is None:
        worksheet = workbook.add_worksheet(sheet)
        worksheet.write_string(0, 0, title, bold)
        worksheet.write_row(1, 0, columns, bold)
    workbook.close()
    return count


def file_name(wanted: explorer.ExportRequest, clock: LocalClock, fmt: str) -> str:
    """``floodwatch_T01-T02_20220101-20220131_1h.csv``: stations (or the first + how many more), days, aggregation."""
    stations = (
        "-".join(wanted.stations) if len(wanted.stations) <= 3 else f"{wanted.stations[0]}+{len(wanted.stations) - 1}"
    )
    days = f"{clock.local(wanted.start_ms):%Y%m%d}-{clock.local(wanted.end_ms - 1):%Y%m%d}"
    return f"floodwatch_{stations}_{days}_{wanted.aggregation}.{fmt}"


def title(wanted: explorer.ExportRequest, clock: LocalClock) -> str:
    """The xlsx title row: what, the aggregation in words, the zone and the range."""
    return t(wanted.language, "export.title").format(
        aggregation=t(wanted.language, f"export.agg.{wanted.aggregation}"),
        zone=zone_name(clock.zone, wanted.start_ms),
        start=clock.text(wanted.start_ms),
        end=clock.text(wanted.end_ms),
    )


def _plain(message: str, status: int) -> Response:
    return Response(message + "\n", status=status, mimetype="text/plain")


def register(server: Flask, ctx: Context) -> None:
    """Add ``/export/readings.csv`` and ``/export/readings.xlsx`` to the Flask server."""

    def prepare() -> tuple[explorer.ExportRequest, Iterator[Record], LocalClock, list[str], dict[str, str]]:
        wanted = explorer.parse_export(request.args, ctx.catalogue, ctx.zone, ctx.settings.language)
        rows = ctx.data.stream_rows(wanted.stations, wanted.start_ms, wanted.end_ms, wanted.aggregation)
        found = records(rows, wanted.aggregation, ctx.zone)
        columns = header(wanted.aggregation, ctx.zone, wanted.start_ms, wanted.language)
        return wanted, found, LocalClock(ctx.zone), columns, ctx.names(wanted.language)

    @server.route("/export/readings.csv")
    def export_csv() -> Response:
        try:
            wanted, found, clock, columns, names = prepare()
            # the first window is read before answering: an InfluxDB that is down is a 503, not an empty file
            first = list(itertools.islice(found, 1))
        except explorer.ExportParameterError as exc:
            return _plain(str(exc), 400)
        except DataUnavailableError as exc:
            return _plain(f"InfluxDB does not answer: {exc}", 503)
        body = csv_chunks(itertools.chain(first, found), wanted.aggregation, names, clock, columns)
        response = Response(body, mimetype=CSV_MIME)
        response.headers["Content-Disposition"] = f'attachment; filename="{file_name(wanted, clock, "csv")}"'
        return response

    @server.route("/export/readings.xlsx")
    def export_xlsx() -> Response:
        try:
            wanted, found, clock, columns, names = prepare()
        except explorer.ExportParameterError as exc:
            return _plain(str(exc), 400)
        folder = ctx.settings.var_dir / "export"
        folder.mkdir(parents=True, exist_ok=True)
        descriptor, name = tempfile.mkstemp(suffix=".xlsx", dir=folder)
        os.close(descriptor)
        path = Path(name)
        handed_over = False  # to the response, which removes the file once sent
        try:
            sheet = t(wanted.language, "export.sheet")
            write_xlsx(path, found, wanted.aggregation, names, clock, columns, title(wanted, clock), sheet)

            def chunks() -> Iterator[bytes]:
                with path.open("rb") as handle:
                    while block := handle.read(1 << 20):
                        yield block

            response = Response(chunks(), mimetype=XLSX_MIME)
            response.headers["Content-Length"] = str(path.stat().st_size)
            response.headers["Content-Disposition"] = f'attachment; filename="{file_name(wanted, clock, "xlsx")}"'
            response.call_on_close(lambda: path.unlink(missing_ok=True))
            handed_over = True
            return response
        except DataUnavailableError as exc:
            return _plain(f"InfluxDB does not answer: {exc}", 503)
        finally:
            if not handed_over:
                path.unlink(missing_ok=True)
