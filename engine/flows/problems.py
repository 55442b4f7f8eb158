"""Problems found in a flow: each one points at a place in the YAML text a person can fix."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from engine.core.errors import InvalidInput


@dataclass(frozen=True, order=True)
class Problem:
    """One error in a flow source; ``line`` and ``column`` are 1-based."""

    line: int
    column: int
    message: str
    path: str = ""
    file: str = "<flow>"

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}: {self.message}"

    def as_dict(self) -> dict:
        return asdict(self)


class FlowInvalid(InvalidInput):
    """Raised when a flow source has problems; carries every one of them."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(problems)
        self.details = {"problems": [p.as_dict() for p in self.problems]}
        super().__init__("\n".join(str(p) for p in self.problems))
