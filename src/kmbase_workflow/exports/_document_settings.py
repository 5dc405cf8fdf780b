"""What the documents need that the records do not hold: the host's `DocumentSettings` (the
issuing office, where to object), loaded from TOML by `load_document_settings`. Never
invented: `required_office` and `required_objections` refuse a document that needs a
missing one.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

from .._i18n import Text
from ..errors import InvalidInputError

__all__ = [
    "DocumentSettings",
    "ObjectionContact",
    "load_document_settings",
    "required_objections",
    "required_office",
]


@attrs.frozen
class ObjectionContact:
    """Where and how to object during the public notice (第十三条): who receives objections,
    and at least one way to reach them."""

    receiver: str
    """The office or person who receives objections (e.g. 市工业和信息化局中小企业处)."""
    phone: str = ""
    email: str = ""
    address: str = ""

    def lines(self) -> tuple[str, ...]:
        """The contact as the notice prints it, one line each, given ones only."""
        labelled = (
            ("联系部门", self.receiver),
            ("联系电话", self.phone),
            ("电子邮箱", self.email),
            ("通信地址", self.address),
        )
        return tuple(f"{label}：{value}" for label, value in labelled if value)


@attrs.frozen
class DocumentSettings:
    """What the documents need that the records do not hold: the host's configuration.

    ``office`` is the issuing office (发文机关, e.g. 昆明市工业和信息化局) signing the 公示
    and the 认定 notice; ``objections`` where to object to the 公示. Neither is ever
    invented: `public_notice` refuses without both, `certification_notice` without
    ``office``. Load them from TOML with `load_document_settings`.
    """

    office: str = ""
    objections: ObjectionContact | None = None


def _settings_error(source: str, problems: Sequence[str], en: Sequence[str]) -> InvalidInputError:
    return InvalidInputError(
        Text(zh=f"{source}：" + "；".join(problems), en=f"{source}: " + "; ".join(en)),
        hint=Text(
            zh="格式见 docs/how-to/documents.md（office、[objections] receiver 及 phone/email/address）",
            en="see docs/how-to/documents.md for the format (office, [objections] receiver and phone/email/address)",
        ),
    )


def _text_field(data: Mapping[str, Any], key: str, where: str, problems: list[Text]) -> str:
    value = data.get(key, "")
    if not isinstance(value, str):
        problems.append(Text(zh=f"{where}{key} 应为文本", en=f"{where}{key} must be text"))
        return ""
    return value.strip()


def load_document_settings(source: str | Path | Mapping[str, Any]) -> DocumentSettings:
    """The host's `DocumentSettings` from a TOML file (or its parsed mapping)::

        office = "昆明市工业和信息化局"

        [objections]
        receiver = "昆明市工业和信息化局中小企业处"
        phone = "0871-00000000"
        email = ""
        address = ""

    A file that cannot be read or parsed, or a value that is not text, is refused
    (`InvalidInputError`); missing values stay empty, and the documents that need them refuse.
    """
    name = "<settings>" if isinstance(source, Mapping) else str(source)
    if isinstance(source, Mapping):
        data: Mapping[str, Any] = source
    else:
        try:
            data = tomllib.loads(Path(source).read_text(encoding="utf-8"))
        except OSError as exc:
            reason = exc.strerror or str(exc)
            raise _settings_error(
                name, [f"无法读取：{reason}"], [f"cannot read: {reason}"]
            ) from None
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise _settings_error(
                name, [f"不是有效的 TOML：{exc}"], [f"not valid TOML: {exc}"]
            ) from None
    problems: list[Text] = []
    office = _text_field(data, "office", "", problems)
    objections: ObjectionContact | None = None
    raw = data.get("objections")
    if raw is not None and not isinstance(raw, Mapping):
        problems.append(Text(zh="[objections] 应为表", en="[objections] must be a table"))
    elif raw is not None:
        fields = {
            key: _text_field(raw, key, "objections.", problems)
            for key in ("receiver", "phone", "email", "address")
        }
        objections = ObjectionContact(**fields)
    unknown = sorted(set(data) - {"office", "objections"})
    if unknown:
        problems.append(
            Text(zh=f"未知的键：{'、'.join(unknown)}", en=f"unknown keys: {', '.join(unknown)}")
        )
    if problems:
        raise _settings_error(
            name, [problem.zh for problem in problems], [problem.en for problem in problems]
        )
    return DocumentSettings(office=office, objections=objections)


def _missing_setting(what: Text) -> InvalidInputError:
    return InvalidInputError(
        Text(
            zh=f"文书需要{what.zh}，但主机配置中没有（不会编造）",
            en=f"the document needs {what.en}, which the host's settings do not give (never invented)",
        ),
        hint=Text(
            zh="在配置文件中填写（--settings FILE 或环境变量 KMBASE_DOCUMENTS），见 docs/how-to/documents.md",
            en="fill it in the settings file (--settings FILE or $KMBASE_DOCUMENTS), see docs/how-to/documents.md",
        ),
    )


def required_office(settings: DocumentSettings) -> str:
    """The issuing office of ``settings``; refused when they do not give it."""
    if not settings.office.strip():
        raise _missing_setting(Text(zh="发文机关（office）", en="the issuing office (office)"))
    return settings.office.strip()


def required_objections(settings: DocumentSettings) -> ObjectionContact:
    """Where to object, from ``settings``; refused without who receives objections or a
    way to reach them."""
    contact = settings.objections
    if contact is None or not contact.receiver.strip():
        raise _missing_setting(
            Text(
                zh="受理异议的部门（[objections] receiver）",
                en="who receives objections ([objections] receiver)",
            )
        )
    if not (contact.phone.strip() or contact.email.strip() or contact.address.strip()):
        raise _missing_setting(
            Text(
                zh="反映异议的联系方式（[objections] phone、email 或 address）",
                en="a way to object ([objections] phone, email or address)",
            )
        )
    return contact
