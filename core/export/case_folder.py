"""Where the exports of one case go: `<chosen folder>/<case name>/`, a folder that belongs to that case alone
(issue 18 B; docs/decisions/192).

A hidden marker (MARKER) records which case a folder belongs to. A case's folder is the first of `<name>`,
`<name>_2`, `<name>_3`, ... that is missing, empty, or marked as that case's: a folder of another case, or one
the user filled with something else, is never written into, so two cases can never share a folder by accident.
What an export would replace in the case's own folder is listed first (`existing`), so that the GUI asks and
the command line refuses before anything is overwritten.
"""
from __future__ import annotations

import json
import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path

from core.errors import ExportError
from core.io.atomic import atomic_write_text

log = logging.getLogger(__name__)

MARKER = ".mandible-studio-case"  # JSON inside; no .json suffix, so no Labelme tool takes it for a slice
MAX_TRIES = 1000


def folder_stem(case_name: str | None) -> str:
    """The case name as a file or folder name (no path separators, no leading dots); "" when nothing is left."""
    return re.sub(r"[^\w.-]+", "_", case_name or "").strip("._")


@dataclass(frozen=True)
class CaseFolder:
    """The export folder of one case (it may not exist yet)."""

    path: Path
    case_id: str
    case_name: str

    def existing(self, names) -> list[Path]:
        """The files among `names` (relative to the folder) that are already there: an export would replace them."""
        return [self.path / name for name in names if (self.path / name).exists()]

    def claim(self) -> None:
        """Create the folder (if needed) and mark it as this case's; raises ExportError when it cannot be written."""
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            atomic_write_text(self.path / MARKER, json.dumps({"case_id": self.case_id, "case_name": self.case_name}))
        except OSError as exc:
            raise ExportError(f"cannot write to {self.path}: {exc.strerror or exc}; choose another folder") from exc

    def owns(self, path: Path) -> bool:
        """True when `path` lies directly in this folder."""
        return Path(path).parent.resolve() == self.path.resolve()


def case_folder(root: str | os.PathLike, case_id: str, case_name: str) -> CaseFolder:
    """The folder in `root` for the exports of case `case_id` (named after `case_name`)."""
    root = Path(root)
    stem = folder_stem(case_name) or "case"
    for number in range(1, MAX_TRIES + 1):
        path = root / (stem if number == 1 else f"{stem}_{number}")
        if _free_for(path, case_id):
            return CaseFolder(path, case_id, case_name)
    raise ExportError(f"{root} already holds {MAX_TRIES} folders named {stem}; choose another folder")


def owner_of(folder: Path) -> str | None:
    """The case id a folder is marked with; None when it has no readable marker."""
    try:
        data = json.loads((Path(folder) / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data.get("case_id") if isinstance(data, dict) and isinstance(data.get("case_id"), str) else None


def _free_for(path: Path, case_id: str) -> bool:
    if not path.exists():
        return True
    if not path.is_dir():
        return False
    owner = owner_of(path)
    if owner is not None:
        return owner == case_id
    try:
        return not any(path.iterdir())  # an empty folder: nothing of anyone's is in it
    except OSError as exc:
        log.warning("cannot look into %s: %s", path, exc)
        return False
