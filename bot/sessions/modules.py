"""A module's identity: where it lives in Zoho, and the names people know it by."""

from __future__ import annotations

import re
from dataclasses import dataclass

_KEY = re.compile(r"^\s*([\w-]{1,64})/([\w-]{1,64})/([\w-]{1,64})\s*$")
"""Zoho's ids are 18 digits; 64 a part keeps a key within the store's column."""


@dataclass(frozen=True)
class ModuleId:
    """The three ids that name one module of one batch of one course."""

    course_id: str
    batch_id: str
    module_id: str

    @property
    def key(self) -> str:
        """`course/batch/module`, the one text form (store rows, button values, what people may type)."""
        return f"{self.course_id}/{self.batch_id}/{self.module_id}"

    @classmethod
    def parse(cls, text: str) -> ModuleId | None:
        """The id written as `course/batch/module`, or None when `text` is not of that form."""
        match = _KEY.match(text)
        return cls(*match.groups()) if match else None


@dataclass(frozen=True)
class ModuleRef:
    """A module with its names: what the catalog knows, the store keeps and messages show."""

    course_id: str
    batch_id: str
    module_id: str
    name: str = ""
    course_name: str = ""
    batch_name: str = ""
    aliases: tuple[str, ...] = ()

    @classmethod
    def named(cls, module: ModuleId, name: str) -> ModuleRef:
        return cls(module.course_id, module.batch_id, module.module_id, name)

    @property
    def id(self) -> ModuleId:
        return ModuleId(self.course_id, self.batch_id, self.module_id)

    @property
    def key(self) -> str:
        return self.id.key

    @property
    def title(self) -> str:
        return self.name or f"Module {self.module_id}"

    @property
    def path(self) -> str:
        """ "Course › Batch › Module", how candidates are told apart."""
        parts = [self.course_name, self.batch_name, self.title]
        return " › ".join(part for part in parts if part)
