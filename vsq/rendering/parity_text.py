"""A row's parity with the float model in words, for the terminal's and the HTML's variants tables alike (one
format in one place): top-1 agreement and the worst image's max absolute error / lowest cosine similarity of the
scores (vsq.statistics.parity). Rows without them (a results.json of an older vsq, the float model's own row, a
failed file) show an empty cell, never a figure vsq did not measure."""

from __future__ import annotations

AGREE = "agree"
WORST = "worst err / min cos"


def agreement_text(row: dict) -> str:
    """Top-1 agreement with the float model (agreement_with_keras, agreement_with_pytorch), 4 decimals."""
    value = next((value for key, value in row.items() if key.startswith("agreement_with_")), None)
    return f"{value:.4f}" if isinstance(value, (int, float)) and not isinstance(value, bool) else ""


def parity_text(row: dict) -> str:
    """The worst image's max absolute error of the scores / the lowest cosine similarity, 4 decimals each."""
    parity = row.get("parity")
    summary = next(iter(parity.values()), None) if isinstance(parity, dict) else None
    try:
        return f"{float(summary['max_abs_error']['max']):.4f} / {float(summary['cosine']['min']):.4f}"
    except (TypeError, KeyError, ValueError):  # none recorded, or a document vsq did not write
        return ""
