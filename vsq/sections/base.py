"""What every section is (see vsq.sections): the defaults a section overrides."""

from __future__ import annotations


class Section:
    """The defaults a section overrides: no extra models, nothing to render."""

    key = ""
    checks: tuple = ()
    # The tasks whose runs it applies to (vsq.tasks): most sections read classification's figures (Top-1) so far.
    tasks: tuple = ("classification",)

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

    def part_lines(self, name: str, document: dict, lines_of, label: str = "") -> list[str]:
        """The section's part as terminal lines (lines_of(part)), each after the configuration's name; none
        without the part."""
        part = document.get(self.key)
        return [f"{name}: {label}{line}" for line in lines_of(part)] if part else []

    def part_html(self, document: dict, render) -> str:
        """The section's part rendered (render(part)); "" without the part."""
        part = document.get(self.key)
        return render(part) if part else ""

    def cost(self, pipeline) -> str:
        """What the section adds to the run's work, said before the first build ("": nothing worth saying)."""
        return ""

    def hint(self, part: dict | None) -> str:
        """What a failing float-model check adds from this section's part ("" : nothing)."""
        return ""
