"""The console's bar charts (faces/console/charts.py): stacks that add up, round axis
steps, the largest series drawn apart and the rest as `other`."""

from __future__ import annotations

from modelplane.faces.console.charts import OTHER, bar_chart, format_value, top_series


def test_a_stack_is_as_tall_as_its_sum_and_the_tallest_reaches_near_the_top() -> None:
    chart = bar_chart(
        chart_id="c",
        title="Calls",
        description="Calls per day.",
        buckets=["2026-12-01", "2026-12-02"],
        series=["a", "b"],
        values=[[3, 1], [0, 2]],
        unit="calls",
    )
    first = [b for b in chart.bars if b.label.startswith("2026-12-01")]
    second = [b for b in chart.bars if b.label.startswith("2026-12-02")]
    assert [b.series for b in first] == [1, 2] and [b.series for b in second] == [2]
    assert [t.label for t in chart.ticks] == ["0", "1", "2", "3", "4"]
    plot = chart.plot_bottom - chart.ticks[-1].y
    assert abs(sum(b.height for b in first) - plot) < 0.05  # 4 of 4
    assert abs(second[0].height - plot / 2) < 0.05
    assert first[0].y + first[0].height == chart.plot_bottom  # stacked from the axis
    assert first[1].y + first[1].height == first[0].y
    assert first[0].label == "2026-12-01, a: 3"
    assert chart.total(1) == 3 and not chart.empty


def test_small_costs_keep_their_digits_and_nothing_is_an_empty_chart() -> None:
    assert format_value(0.000222, "money") == "0.0002"
    assert format_value(0.0000074, "money") == "0.0000074"
    assert format_value(1234.5, "calls") == "1,234"
    empty = bar_chart(
        chart_id="e",
        title="t",
        description="d",
        buckets=["x"],
        series=[],
        values=[[]],
        unit="money",
    )
    assert empty.empty and empty.bars == []


def test_past_six_series_the_smallest_are_summed_as_other() -> None:
    totals = {f"m{n}": float(n) for n in range(1, 9)}
    assert top_series(totals) == ["m8", "m7", "m6", "m5", "m4", OTHER]
    assert top_series({"b": 1, "a": 1}) == ["a", "b"]
