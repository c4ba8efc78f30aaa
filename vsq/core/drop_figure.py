"""Which figure a task's drop charts show (the forest plot, the trend, the history): the one place that says it.

Classification's is Top-1 (a paired entry IS the drop), a detector's mAP@[.5:.95] (a paired entry holds one
drop per metric: its `map_50_95`). Each task names its own (its `drop_figure`, vsq.tasks.base.Task); renderers look it
up by a document's "task" through figure_of, so no renderer asks which task it draws.
"""

from __future__ import annotations

from dataclasses import dataclass

from vsq.core.check_names import DROPS_MEANINGFUL_CHECK, FLOAT_MAP_CHANCE_CHECK, MAP_DROP_CHECK, QUANTIZED_DROP_CHECK


@dataclass(frozen=True)
class DropFigure:
    word: str  # in headings and axis labels: "Top-1", "mAP@[.5:.95]"
    metric: str | None  # the key of the drop in a paired entry; None: the paired entry is the drop itself
    figure: str  # a model entry's key of the figure ("top_1_accuracy", "map_50_95")
    check: str  # the check judging the quantized models' drop
    threshold: tuple[str, str]  # (configuration object, key) of the drop's threshold, points
    history: str  # the key of a history line holding the figure per model
    every_role_checked: bool  # each reference model's drop has its role's check; else only the quantized one's
    export_threshold: str | None  # thresholds' key holding the float export to the float model both ways
    meaningful_check: str  # FAIL: the float model is near chance, the drop says nothing (the tables: MEANINGLESS)
    heading: str  # the HTML summary's heading: "Top-1 accuracy"
    title: str  # the terminal summary's title: "Top-1 accuracy", "mAP@[.5:.95] (detection)"
    # None: a baseline entry keeps per-image outcomes, so today's figure is compared with it paired by the decision
    # rule (vsq.sections.baseline); else why the figures are compared as points
    baseline_unpaired: str | None = None

    def paired(self, entry):
        """The drop of this figure in a model's paired entry (against the float model): a dict with drop_points
        and interval_points, or None (documents come from other machines)."""
        if not isinstance(entry, dict):
            return None
        found = entry.get(self.metric) if self.metric else entry
        return found if isinstance(found, dict) else None

    def value(self, model) -> float | None:
        """This figure of a model entry (`models.<key>`): its Top-1 or its mAP@[.5:.95]; None without it."""
        found = model.get(self.figure) if isinstance(model, dict) else None
        return found if isinstance(found, (int, float)) and not isinstance(found, bool) else None

    def check_of(self, model) -> str | None:
        """The check judging a reference model's drop (vsq.core.reference.ReferenceModel; None: not gated)."""
        if self.every_role_checked:
            return model.check
        return self.check if model.role == "quantized" else None

    def limit(self, configuration) -> float | None:
        """The threshold of the drop in a document's configuration (None: not recorded)."""
        part = configuration.get(self.threshold[0]) if isinstance(configuration, dict) else None
        value = part.get(self.threshold[1]) if isinstance(part, dict) else None
        return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None


TOP_1 = DropFigure("Top-1", None, "top_1_accuracy", QUANTIZED_DROP_CHECK, ("thresholds", "max_top1_drop"), "top_1",
                   True, "max_float_top1_drop", DROPS_MEANINGFUL_CHECK, "Top-1 accuracy", "Top-1 accuracy")
MAP = DropFigure("mAP@[.5:.95]", "map_50_95", "map_50_95", MAP_DROP_CHECK, ("detection", "max_map_drop"),
                 "map_50_95", False, None, FLOAT_MAP_CHANCE_CHECK, "mAP@[.5:.95]", "mAP@[.5:.95] (detection)",
                 "a detector's baseline keeps no detections")
