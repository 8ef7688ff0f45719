"""Figures beside their references: one table for people, one JSON document for tools.

Every ``Figure`` is the median of repeated runs with its spread, next to a ceiling or baseline
measured in the same run, as a ratio; where a target applies, whether it is met. A figure that could
not be measured says so with the reason, never with a made-up value.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.harness import Spread, machine


@dataclass(frozen=True)
class Figure:
    """One measured figure and its reference.

    Attributes:
        section: ingest, catchup, alerts, query, dashboard or memory.
        name: what was measured.
        unit: readings/s, ms, MB...
        value: median and spread over the runs; None when not measured.
        ref_name: the ceiling or baseline it is compared with.
        ref: the reference's median, measured in the same run.
        target: the issue's target in words ("" when none).
        met: whether the target is met (None when there is no target or no value).
        note: how it was measured, scaled, or why it was not.
    """

    section: str
    name: str
    unit: str
    value: Spread | None
    ref_name: str
    ref: float | None
    target: str = ""
    met: bool | None = None
    note: str = ""

    @property
    def ratio(self) -> float | None:
        """Value ÷ reference."""
        if self.value is None or not self.ref:
            return None
        return self.value.median / self.ref

    def as_json(self) -> dict[str, Any]:
        """The figure as plain JSON."""
        value = self.value
        return {
            "section": self.section,
            "name": self.name,
            "unit": self.unit,
            "median": value.median if value else None,
            "min": value.low if value else None,
            "max": value.high if value else None,
            "runs": value.runs if value else 0,
            "reference": {"name": self.ref_name, "value": self.ref},
            "ratio": self.ratio,
            "target": self.target,
            "met": self.met,
            "note": self.note,
        }


def number(value: float | None) -> str:
    """A figure for the table: thousands separated, three significant digits for small ones."""
    if value is None:
        return "–"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.3g}"


@dataclass
class Report:
    """The figures of one ``floodwatch bench`` run, and its notes (scaling, what was not measured)."""

    quick: bool
    figures: list[Figure] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)

    def add(self, figure: Figure) -> Figure:
        """Record a figure (and print it at once, so a long run shows progress)."""
        self.figures.append(figure)
        print(f"  {figure.section}: {figure.name} = {_value(figure)} {figure.unit}", flush=True)
        return figure

    def note(self, text: str) -> None:
        """Record a note printed under the table."""
        self.notes.append(text)
        print(f"  note: {text}", flush=True)

    def table(self) -> str:
        """The figures as a Markdown table (readable in a terminal and pasted into the README)."""
        rows = [
            "| section | figure | median [min–max] (runs) | unit | reference | ratio | target | met |",
            "| --- | --- | --- | --- | --- | --- | --- | --- |",
        ]
        for f in self.figures:
            ratio = f"{f.ratio:.2f}×" if f.ratio is not None else "–"
            met = {True: "yes", False: "**no**", None: ""}[f.met]
            reference = f"{f.ref_name} {number(f.ref)}" if f.ref is not None else f.ref_name
            name = f"{f.name} ({f.note})" if f.value is None and f.note else f.name
            rows.append(
                f"| {f.section} | {name} | {_value(f)} | {f.unit} | {reference} | {ratio} | {f.target} | {met} |"
            )
        return "\n".join(rows)

    def as_json(self) -> dict[str, Any]:
        """The whole run as plain JSON."""
        return {
            "quick": self.quick,
            "seconds": round(time.monotonic() - self.started, 1),
            "machine": machine(),
            "figures": [f.as_json() for f in self.figures],
            "notes": self.notes,
        }

    def write_json(self, path: Path) -> None:
        """Write ``as_json`` to ``path``."""
        path.write_text(json.dumps(self.as_json(), indent=2, ensure_ascii=False) + "\n")


def _value(figure: Figure) -> str:
    value = figure.value
    if value is None:
        return "not measured"
    if value.runs == 1:
        return f"{number(value.median)} (1)"
    return f"{number(value.median)} [{number(value.low)}–{number(value.high)}] ({value.runs})"
