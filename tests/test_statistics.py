"""vsq.statistics.paired: paired comparison, checked against published worked examples and independent computations."""

import json
import math
from statistics import NormalDist  # the standard library's, independent of scipy

import numpy as np
import pytest

from vsq.statistics import paired as st


def closed_form_wilson(k, n, confidence=0.95):
    z = NormalDist().inv_cdf((1 + confidence) / 2)
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(centre - half, 0.0), min(centre + half, 1.0)


def independent_newcombe(a, b, c, d, confidence=0.95):
    """Newcombe (1998) method 10 written out again, on the closed-form Wilson interval, in points."""
    n = a + b + c + d
    p1, p2 = (a + b) / n, (a + c) / n
    l1, u1 = closed_form_wilson(a + b, n, confidence)
    l2, u2 = closed_form_wilson(a + c, n, confidence)
    denominator = math.sqrt((a + b) * (c + d) * (a + c) * (b + d))
    numerator = a * d - b * c
    numerator = max(numerator - n / 2, 0) if numerator > 0 else numerator
    phi = numerator / denominator if denominator else 0.0
    delta = math.sqrt(max((p1 - l1) ** 2 - 2 * phi * (p1 - l1) * (u2 - p2) + (u2 - p2) ** 2, 0))
    epsilon = math.sqrt(max((u1 - p1) ** 2 - 2 * phi * (u1 - p1) * (p2 - l2) + (p2 - l2) ** 2, 0))
    return 100 * (p1 - p2 - delta), 100 * (p1 - p2 + epsilon)


def arrays(a, b, c, d):
    """Per-image correctness with the given paired table, shuffled."""
    ref = np.array([True] * a + [True] * b + [False] * c + [False] * d)
    cand = np.array([True] * a + [False] * b + [True] * c + [False] * d)
    order = np.random.default_rng(a + 7 * b + 13 * c + 17 * d).permutation(len(ref))
    return ref[order], cand[order]


def random_tables(count, seed=1):
    rng = np.random.default_rng(seed)
    for _ in range(count):
        n = int(rng.choice([1, 2, 3, 5, 10, 40, 200, 5000]))
        yield tuple(int(x) for x in rng.multinomial(n, rng.dirichlet([1, 0.3, 0.3, 1])))


# --- Wilson --------------------------------------------------------------------------------


def test_wilson_known_value_and_closed_form():
    # 81 of 263: the textbook value (0.2553, 0.3662)
    assert st.wilson_interval(81, 263) == pytest.approx((0.2553, 0.3662), abs=5e-5)
    for k, n, conf in [(81, 263, 0.95), (0, 10, 0.95), (10, 10, 0.9), (3, 7, 0.99), (1, 1, 0.95)]:
        assert st.wilson_interval(k, n, conf) == pytest.approx(closed_form_wilson(k, n, conf), abs=1e-9)
    assert st.wilson_interval(0, 0) == (0.0, 1.0)
    assert st.wilson_interval(0, 10)[0] == 0.0 and st.wilson_interval(10, 10)[1] == 1.0


# --- worked examples -----------------------------------------------------------------------


def test_textbook_mcnemar_presidential_approval():
    # Agresti, Categorical Data Analysis: approval of the President in two surveys of the same
    # 1600 people. approve/approve 794, approve/disapprove 150, disapprove/approve 86, 570.
    c = st.compare_counts(794, 150, 86, 570)
    assert (c.num_images, c.reference_only, c.candidate_only) == (1600, 150, 86)
    assert c.drop_points == pytest.approx(4.0)  # 59% -> 55%
    b, d = c.reference_only, c.candidate_only
    assert (b - d) ** 2 / (b + d) == pytest.approx(17.36, abs=0.005)  # McNemar's statistic
    exact = min(1.0, 2 * sum(math.comb(b + d, k) for k in range(min(b, d) + 1)) / 2 ** (b + d))
    assert c.p_value == pytest.approx(exact, rel=1e-9)
    assert c.p_value < 0.001
    # With 1600 pairs the score interval is close to the book's Wald interval 4 +- 1.87.
    assert c.interval_points == pytest.approx((2.13, 5.87), abs=0.02)


def test_newcombe_worked_example_cavo_2012():
    # Complete response before / after consolidation therapy (Cavo et al. 2012), the paired
    # example of Fagerland, Lydersen & Laake (2014, Statistics in Medicine 33:2850; and their
    # 2017 book, ch. 8): Newcombe square-and-add -0.0621 (95% CI -0.1186 to -0.0046).
    c = st.compare_counts(59, 6, 16, 80)
    assert c.drop_points == pytest.approx(-6.21, abs=0.005)
    assert c.interval_points == pytest.approx((-11.86, -0.46), abs=0.006)


def test_matches_independent_implementation():
    for table in random_tables(300):
        for conf in (0.8, 0.95):
            expected = independent_newcombe(*table, conf)
            assert st.compare_counts(*table, confidence=conf).interval_points == pytest.approx(expected, abs=1e-7)


def test_close_to_bootstrap_for_a_large_table():
    table = np.array([820, 70, 40, 70])
    n = int(table.sum())
    counts = np.random.default_rng(0).multinomial(n, table / n, size=20000)
    drops = (counts[:, 1] - counts[:, 2]) / n * 100
    low, high = st.compare_counts(*table).interval_points
    assert low == pytest.approx(np.percentile(drops, 2.5), abs=0.4)
    assert high == pytest.approx(np.percentile(drops, 97.5), abs=0.4)


def test_coverage_near_nominal():
    rng = np.random.default_rng(3)
    rates = np.array([0.70, 0.06, 0.03, 0.21])
    true_drop = (rates[1] - rates[2]) * 100
    hits = 0
    for table in rng.multinomial(150, rates, size=400):
        low, high = st.compare_counts(*table).interval_points
        hits += low <= true_drop <= high
    assert 0.92 <= hits / 400 <= 0.99


# --- degenerate tables and properties --------------------------------------------------------


@pytest.mark.parametrize(
    "table", [(50, 0, 0, 50), (1000, 0, 0, 0), (0, 0, 0, 1000), (1, 0, 0, 0), (0, 0, 0, 1), (3, 0, 0, 2)]
)
def test_no_discordant_pair(table):
    c = st.compare_paired(*arrays(*table))
    low, high = c.interval_points
    assert c.p_value == 1.0 and c.drop_points == 0.0
    assert -100 <= low < 0 < high <= 100
    assert low == pytest.approx(-high)


def test_all_discordant_and_single_images():
    c = st.compare_counts(0, 7, 3, 0)
    assert c.drop_points == pytest.approx(40.0) and c.p_value == pytest.approx(0.34375)  # 2 * P(X<=3 | 10, 1/2)
    assert c.interval_points[0] < 0 < c.interval_points[1]
    c = st.compare_counts(0, 10, 0, 0)
    assert c.drop_points == 100.0 and c.p_value == pytest.approx(2 / 1024)
    assert 0 < c.interval_points[0] < 100 and c.interval_points[1] == 100
    one_loss, one_gain = st.compare_counts(0, 1, 0, 0), st.compare_counts(0, 0, 1, 0)
    assert one_loss.drop_points == 100.0 and one_loss.p_value == 1.0
    assert one_loss.interval_points[0] < 0  # a single image proves nothing
    assert one_gain.interval_points == pytest.approx(tuple(-x for x in reversed(one_loss.interval_points)))


def test_no_images():
    c = st.compare_paired(np.array([], dtype=bool), np.array([], dtype=bool))
    assert (c.num_images, c.drop_points, c.p_value, c.interval_points) == (0, 0.0, 1.0, (-100.0, 100.0))
    assert st.images_to_resolve(c, 1.0) is None


def test_interval_contains_drop_bounded_and_symmetric():
    for table in random_tables(200, seed=2):
        ref, cand = arrays(*table)
        forward, backward = st.compare_paired(ref, cand), st.compare_paired(cand, ref)
        low, high = forward.interval_points
        assert -100 <= low <= forward.drop_points <= high <= 100
        assert backward.drop_points == pytest.approx(-forward.drop_points)
        assert backward.interval_points == pytest.approx((-high, -low), abs=1e-9)
        swapped = (backward.reference_only, backward.candidate_only)
        assert swapped == (forward.candidate_only, forward.reference_only)


def test_compare_paired_counts_and_validation():
    ref = np.array([1, 1, 1, 0, 0, 1], dtype=bool)
    cand = np.array([1, 0, 1, 1, 0, 0], dtype=bool)
    c = st.compare_paired(ref, cand)
    assert (c.num_images, c.both_correct, c.reference_only, c.candidate_only, c.both_wrong) == (6, 2, 2, 1, 1)
    assert c.drop_points == pytest.approx((4 / 6 - 3 / 6) * 100)
    with pytest.raises(ValueError):
        st.compare_paired(ref, cand[:5])
    with pytest.raises(ValueError):
        st.compare_counts(1, 2, 3, 4, confidence=95)


def test_as_dict_is_json_safe():
    c = st.compare_counts(794, 150, 86, 570)
    out = json.loads(json.dumps(c.as_dict()))
    assert out["num_images"] == 1600 and out["reference_only"] == 150 and out["candidate_only"] == 86
    assert out["drop_points"] == 4.0 and out["confidence"] == 0.95
    assert out["p_value"] == pytest.approx(c.p_value, rel=1e-3) and out["p_value"] > 0
    assert out["interval_points"] == [round(x, 4) for x in c.interval_points]
    assert all(type(out[k]) is int for k in ("num_images", "both_correct", "both_wrong"))


# --- decisions -------------------------------------------------------------------------------


def test_decide_point_rule():
    c = st.compare_counts(900, 30, 10, 60)  # drop 2.0 points
    assert st.decide(c, 2.0, "point") == "PASS"
    assert st.decide(c, 1.99, "point") == "FAIL"
    assert st.decide(st.compare_counts(0, 1, 0, 0), 0.5) == "FAIL"  # never INCONCLUSIVE
    exactly = st.compare_counts(43, 7, 0, 0)  # 7 of 50 images: 7 / 50 * 100 would be 14.000000000000002
    assert exactly.drop_points == 14.0 and st.decide(exactly, 14.0, "point") == "PASS"


def test_decide_confident_rule():
    c = st.compare_counts(900, 30, 10, 60)  # drop 2.0, 95% interval about (0.7, 3.3)
    low, high = c.interval_points
    assert 0.5 < low < 1.0 and 3.0 < high < 3.6
    assert st.decide(c, 0.5, "confident") == "FAIL"
    assert st.decide(c, 3.6, "confident") == "PASS"
    assert st.decide(c, high, "confident") == "PASS"  # at the threshold
    assert st.decide(c, 1.0, "confident") == "INCONCLUSIVE"
    assert st.decide(c, 3.0, "confident") == "INCONCLUSIVE"
    # a wider interval at a higher confidence can no longer tell
    assert st.decide(c, 0.5, "confident", confidence=0.999) == "INCONCLUSIVE"
    assert st.decide(c, 1.0, "confident", confidence=0.5) == "FAIL"
    with pytest.raises(ValueError):
        st.decide(c, 1.0, "bayes")


def test_interval_wider_than_threshold():
    c = st.compare_counts(900, 30, 10, 60)
    assert st.interval_wider_than_threshold(c, 1.0)
    assert not st.interval_wider_than_threshold(c, 5.0)


# --- images_to_resolve -----------------------------------------------------------------------


def independent_scale(table, n):
    """Largest-remainder apportionment of n images in the proportions of table."""
    total = sum(table)
    exact = [cell * n / total for cell in table]
    cells = [math.floor(x) for x in exact]
    for i in sorted(range(4), key=lambda i: (-(exact[i] - cells[i]), i))[: n - sum(cells)]:
        cells[i] += 1
    return tuple(cells)


def assert_resolves(table, threshold):
    c = st.compare_counts(*table)
    n = st.images_to_resolve(c, threshold)
    assert n is not None and n > c.num_images
    scaled = independent_scale(table, n)
    assert scaled == st.scale_counts(c, n) and sum(scaled) == n
    assert st.decide(st.compare_counts(*scaled), threshold, "confident") != "INCONCLUSIVE"
    before = independent_scale(table, n - 1)
    assert st.decide(st.compare_counts(*before), threshold, "confident") == "INCONCLUSIVE"
    return n


def test_images_to_resolve_grows_towards_the_threshold_and_resolves():
    table = (900, 30, 10, 60)  # drop 2.0 points
    from_above = [assert_resolves(table, t) for t in (3.2, 2.8, 2.5, 2.3)]
    from_below = [assert_resolves(table, t) for t in (0.9, 1.2, 1.5, 1.7)]
    assert from_above == sorted(from_above) and from_below == sorted(from_below)
    assert from_above[-1] > 5 * from_above[0]


def test_images_to_resolve_edge_cases():
    c = st.compare_counts(900, 30, 10, 60)
    assert st.images_to_resolve(c, 2.0) is None  # exactly at the threshold
    assert st.images_to_resolve(c, 10.0) == 1000  # already resolved
    assert st.images_to_resolve(c, 0.0) == 1000
    no_discordant = st.compare_counts(30, 0, 0, 10)
    n = st.images_to_resolve(no_discordant, 1.0)
    assert n > 40 and st.decide(st.compare_counts(*st.scale_counts(no_discordant, n)), 1.0, "confident") == "PASS"
    assert st.images_to_resolve(no_discordant, 0.0) is None
    # the confidence argument: a higher confidence needs more images
    assert st.images_to_resolve(c, 1.0, confidence=0.99) > st.images_to_resolve(c, 1.0)
