"""What every section is (see vsq.sections): the defaults a section overrides."""

from __future__ import annotations


class Section:
    """The defaults a section overrides: no extra models, nothing to render."""

    key = ""
    checks: tuple = ()

    def applies(self, pipeline) -> bool:
        return True

    def targets(self, pipeline) -> list:
        return []

    def build(self, pipeline) -> dict | None:
        return None

    def html(self, name: str, document: dict) -> str:
        return ""

    def terminal_lines(self, name: str, document: dict) -> list[str]:
        return []

    def cost(self, pipeline) -> str:
        """What the section adds to the run's work, said before the first build ("": nothing worth saying)."""
        return ""

    def hint(self, part: dict | None) -> str:
        """What a failing float-model check adds from this section's part ("" : nothing)."""
        return ""
