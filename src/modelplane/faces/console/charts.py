"""Server-rendered bar charts for the console: the geometry of a stacked bar chart (bars,
axis ticks, legend) computed here and drawn by the `charts.html` macro as inline SVG with
classes only (the Content-Security-Policy allows no `style=`), with a title, a
description and a data table beside it for those who do not see the picture."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

SERIES_MAX = 6  # series drawn apart; the rest are summed as "other"
OTHER = "other"
WIDTH = 520
HEIGHT = 220
LEFT = 64  # room for the value axis' labels
BOTTOM = 28  # room for the bucket labels
TOP = 10
RIGHT = 8


@dataclass(frozen=True)
class Bar:
    """One segment of a stacked bar: where it is drawn and what it says."""

    x: float
    y: float
    width: float
    height: float
    series: int  # 1-based: its colour class `bar-N`
    label: str  # the tooltip (`<title>`): bucket, series and value


@dataclass(frozen=True)
class Tick:
    """A value axis line and its label."""

    y: float
    label: str


@dataclass(frozen=True)
class BucketLabel:
    """A bucket's label under its bar."""

    x: float
    label: str


@dataclass(frozen=True)
class BarChart:
    """A stacked bar chart: buckets along x, one stack of series per bucket."""

    chart_id: str
    title: str
    description: str
    buckets: list[str]
    series: list[str]
    values: list[list[float]]  # [bucket][series]
    bars: list[Bar]
    ticks: list[Tick]
    bucket_labels: list[BucketLabel]
    unit: str
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    plot_bottom: int = HEIGHT - BOTTOM

    @property
    def empty(self) -> bool:
        """Whether there is nothing to draw."""
        return not any(any(row) for row in self.values)

    def total(self, series: int) -> float:
        """The sum of one series over every bucket."""
        return sum(row[series] for row in self.values)

    def cell(self, value: float) -> str:
        """A value as the data table shows it."""
        return format_value(value, self.unit)


def format_value(value: float, unit: str, decimals: int = 4) -> str:
    """A value in its unit: money with `decimals` (more when it is tiny), counts whole."""
    if unit == "money":
        if 0 < abs(value) < 10**-decimals:
            decimals = min(9, 1 - math.floor(math.log10(abs(value))))
        return f"{value:,.{decimals}f}"
    return f"{value:,.0f}"


def _step(peak: float, unit: str) -> float:
    """A round step (1, 2 or 5 times a power of ten) so that 4 steps reach `peak`; whole
    for counts."""
    raw = peak / 4
    if raw <= 0:
        return 1.0 if unit != "money" else 0.0001
    power = 10.0 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    return max(1.0, float(math.ceil(step))) if unit != "money" else step


def _tick_decimals(step: float) -> int:
    return max(2, min(9, -math.floor(math.log10(step)))) if step < 1 else 2


def top_series(totals: dict[str, float], most: int = SERIES_MAX) -> list[str]:
    """The series drawn apart: the largest `most - 1` and `other` when there are more."""
    ranked = sorted(totals, key=lambda name: (-totals[name], name))
    if len(ranked) <= most:
        return ranked
    return [*ranked[: most - 1], OTHER]


def bar_chart(
    *,
    chart_id: str,
    title: str,
    description: str,
    buckets: Sequence[str],
    series: Sequence[str],
    values: Sequence[Sequence[float]],
    unit: str,
) -> BarChart:
    """The chart of `values[bucket][series]`, each bucket a stack of its series."""
    peak = max((sum(row) for row in values), default=0.0)
    step = _step(peak, unit)
    top = step * 4
    plot_height = HEIGHT - BOTTOM - TOP
    plot_width = WIDTH - LEFT - RIGHT
    slot = plot_width / max(1, len(buckets))
    bar_width = max(2.0, slot * 0.7)
    bars: list[Bar] = []
    labels: list[BucketLabel] = []
    every = max(1, math.ceil(len(buckets) / 12))  # at most about 12 labels under the bars
    for b, bucket in enumerate(buckets):
        x = LEFT + slot * b + (slot - bar_width) / 2
        base = float(HEIGHT - BOTTOM)
        for s, name in enumerate(series):
            value = values[b][s]
            if value <= 0:
                continue
            height = value / top * plot_height
            base -= height
            text = f"{bucket}, {name}: {format_value(value, unit)}"
            bars.append(
                Bar(
                    round(x, 2),
                    round(base, 2),
                    round(bar_width, 2),
                    round(height, 2),
                    s % SERIES_MAX + 1,
                    text,
                )
            )
        if b % every == 0:
            labels.append(BucketLabel(round(x + bar_width / 2, 2), bucket))
    ticks = [
        Tick(
            round(HEIGHT - BOTTOM - plot_height * n / 4, 2),
            format_value(step * n, unit, _tick_decimals(step)),
        )
        for n in range(5)
    ]
    return BarChart(
        chart_id=chart_id,
        title=title,
        description=description,
        buckets=list(buckets),
        series=list(series),
        values=[list(row) for row in values],
        bars=bars,
        ticks=ticks,
        bucket_labels=labels,
        unit=unit,
    )
