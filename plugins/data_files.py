"""What the built-in file-backed tasks (`text`, `series`, `arrays`) share: the `path`
option, the one line when it is not given, and the file's identity, read once."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from seqkit import ConfigError, DataTask, file_identity


class FileTask(DataTask):
    """A data-backed task that reads one file, `--task-opt path=FILE`."""

    reads_what: ClassVar[str] = "a file"
    """What the file must be, as the message for a missing path says it."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.path = Path(options.get("path", ""))
        self._identity: dict[str, Any] | None = None

    def _where(self) -> str:
        """`--task-opt path=FILE`, how errors name the file; a ConfigError without one."""
        if not str(self.path) or str(self.path) == ".":
            raise ConfigError(
                f"task '{self.name}' needs a file: --task-opt path=FILE ({self.reads_what})"
            )
        return f"--task-opt path={self.path}"

    def file(self) -> dict[str, Any]:
        """The file's identity (`seqkit.file_identity`: it is a regular file), read once."""
        if self._identity is None:
            self._identity = file_identity(self.path, self._where())
        return self._identity


__all__ = ["FileTask"]
