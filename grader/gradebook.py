"""The gradebook of a graded class as a table, written two ways: gradebook.csv (UTF-8, for programs and course
platforms' imports) and gradebook.ods (OpenDocument, which LibreOffice and Excel open with every name intact).

The table: a header (student, one column per problem, total), then a `Points Possible` row (each problem's
maximum, as Canvas writes it), then one row per student; an empty cell is a grading not done yet. No times: the
same verdicts give the same bytes.

Why two files: a spreadsheet that opens a CSV file by double-click does not read it as UTF-8. LibreOffice's
default import reads it (and a TSV, or UTF-16) as a Western 8-bit character set, a UTF-8 byte-order mark
included, so that `Zoë` shows as `ZoÃ«`; Excel reads a CSV without a byte-order mark in the system's code page.
Both open an OpenDocument spreadsheet right, since its text is UTF-8 by definition.
"""
from __future__ import annotations

import csv
import io
import zipfile
import xml.etree.ElementTree as ET

__all__ = ["MAX_ROW", "rows", "to_csv", "to_ods"]

MAX_ROW = "Points Possible"  # the label of the row of maximum points
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # fixed, so the same table gives the same bytes
_MIMETYPE = "application/vnd.oasis.opendocument.spreadsheet"
_NS = {"office": "urn:oasis:names:tc:opendocument:xmlns:office:1.0",
       "table": "urn:oasis:names:tc:opendocument:xmlns:table:1.0",
       "text": "urn:oasis:names:tc:opendocument:xmlns:text:1.0"}


def rows(problems: list[tuple[str, int]], scores: list[tuple[str, list[int | None]]]) -> list[list]:
    """The table: `problems` is (slug, maximum) in column order, `scores` (student, score or None per problem)."""
    table = [["student", *(slug for slug, _ in problems), "total"],
             [MAX_ROW, *(most for _, most in problems), sum(most for _, most in problems)]]
    for student, marks in scores:
        table.append([student, *("" if mark is None else mark for mark in marks),
                      sum(mark for mark in marks if mark is not None)])
    return table


def to_csv(table: list[list]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(table)
    return buffer.getvalue()


def _tag(prefix: str, name: str) -> str:
    return f"{{{_NS[prefix]}}}{name}"


def _content(table: list[list]) -> bytes:
    for prefix, uri in _NS.items():
        ET.register_namespace(prefix, uri)
    document = ET.Element(_tag("office", "document-content"), {_tag("office", "version"): "1.2"})
    sheet = ET.SubElement(ET.SubElement(ET.SubElement(document, _tag("office", "body")),
                                        _tag("office", "spreadsheet")),
                          _tag("table", "table"), {_tag("table", "name"): "gradebook"})
    for row in table:
        line = ET.SubElement(sheet, _tag("table", "table-row"))
        for value in row:
            if value == "":
                ET.SubElement(line, _tag("table", "table-cell"))
                continue
            if isinstance(value, int):  # a score; a student's name stays text, even one like "007"
                attributes = {_tag("office", "value-type"): "float", _tag("office", "value"): str(value)}
            else:
                attributes = {_tag("office", "value-type"): "string"}
            cell = ET.SubElement(line, _tag("table", "table-cell"), attributes)
            ET.SubElement(cell, _tag("text", "p")).text = str(value)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(document, encoding="utf-8", xml_declaration=False)


_MANIFEST = f"""<?xml version="1.0" encoding="UTF-8"?>
<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">
 <manifest:file-entry manifest:full-path="/" manifest:version="1.2" manifest:media-type="{_MIMETYPE}"/>
 <manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>
</manifest:manifest>
"""


def to_ods(table: list[list]) -> bytes:
    """The table as an OpenDocument spreadsheet (one sheet, `gradebook`): the mimetype first and stored, as
    the format requires, then the manifest and the content."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as ods:
        for name, data, method in (("mimetype", _MIMETYPE.encode(), zipfile.ZIP_STORED),
                                   ("META-INF/manifest.xml", _MANIFEST.encode(), zipfile.ZIP_DEFLATED),
                                   ("content.xml", _content(table), zipfile.ZIP_DEFLATED)):
            info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
            info.compress_type = method
            info.external_attr = 0o644 << 16
            ods.writestr(info, data)
    return buffer.getvalue()
