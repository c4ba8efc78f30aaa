"""What the charts and pages say: runs of the same minute told apart, equal series all visible, runs counted in
whole numbers on `vsq history --plot`."""

from datetime import datetime

from vsq.reporting import history
from vsq.reporting.trend import series_styles, tick_labels


def test_runs_of_the_same_minute_get_labels_of_their_own():
    same_minute = [datetime(2026, 12, 5, 10, 18, s) for s in (1, 9, 30, 59)]
    assert tick_labels(same_minute) == ["12-05\n10:18:01", "12-05\n10:18:09", "12-05\n10:18:30", "12-05\n10:18:59"]
    assert tick_labels([datetime(2026, 12, 5, 10, m) for m in (1, 2)]) == ["12-05\n10:01", "12-05\n10:02"]
    same_second = [datetime(2026, 12, 5, 10, 18, 1)] * 2
    assert len(set(tick_labels(same_second))) == 2


def test_equal_series_are_drawn_each_in_its_own_style_the_first_largest():
    styles = series_styles(4)
    assert len({(s["marker"], s["linestyle"]) for s in styles}) == 4
    sizes = [s["markersize"] for s in styles]
    assert sizes == sorted(sizes, reverse=True) and len(set(sizes)) == 4


def test_history_plot_ticks_are_whole_runs():
    import matplotlib.pyplot as plt

    lines = [{"configuration": "c", "top_1": {"keras": 0.9, "tflite": 0.9, "tflite_quantized": 0.8 + i / 100}}
             for i in range(4)]
    fig = history.figure(lines)
    low, high = fig.axes[0].get_xlim()
    ticks = [t for t in fig.axes[0].get_xticks() if low <= t <= high]
    plt.close(fig)
    assert ticks and all(float(t).is_integer() for t in ticks), ticks
