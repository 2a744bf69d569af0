"""How a CSV file a user exported is written, read off its first bytes, and its rows read that way.

Spreadsheets, R, pandas and databases write CSV in several forms: gzip or bzip2 compressed, with a
UTF-8 byte-order mark, in UTF-16 (a spreadsheet's "Unicode text") or a Windows code page,
separated by tabs, semicolons (with decimal commas) or pipes, with a delimiter closing every line
(an empty last column), with quoted header names. `sniff` tells which; `rows` reads any of them.
CsvExampleGen reads exactly one form (uncompressed UTF-8, commas, a header line it splits on
commas without unquoting), so `CsvForm.copy_reasons` says why a file must be copied into that
form first (pipeline/prepared_data.py); the rest are read in place.
"""

from __future__ import annotations

import bz2
import codecs
import csv
import dataclasses
import gzip
import io
import re
from typing import IO, Iterator, List, Optional, Tuple

from modules import paths

SAMPLE_BYTES = 1 << 16
SNIFFED_LINES = 50
DELIMITERS = (",", ";", "\t", "|")
DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
GZIP_MAGIC, BZIP2_MAGIC = b"\x1f\x8b", b"BZh"
# A number written with a decimal comma, with dots between thousands or not: `3,5`, `-1.234,5`.
DECIMAL_COMMA = re.compile(r"[+-]?([0-9]+|[0-9]{1,3}([.][0-9]{3})+),[0-9]+")


@dataclasses.dataclass(frozen=True)
class CsvForm:
    """How one CSV file is written."""

    path: str
    compression: str  # "", "gzip" or "bz2"
    encoding: str  # a Python codec: utf-8, utf-8-sig (a byte-order mark), utf-16, cp1252
    delimiter: str
    header: Tuple[str, ...]  # column names, stripped of surrounding spaces; an empty last dropped
    trailing_delimiter: bool  # the header ends with a delimiter: an empty last column, dropped
    plain_header: bool  # CsvExampleGen's header read (line.strip().split(",")) gives `header`

    def copy_reasons(self) -> List[str]:
        """Why CsvExampleGen cannot read this file as it is (empty: it can)."""
        reasons = []
        if self.compression:
            reasons.append(f"{self.compression}-compressed")
        if self.encoding != "utf-8":
            reasons.append(
                "a UTF-8 byte-order mark"
                if self.encoding == "utf-8-sig"
                else f"encoded in {self.encoding}"
            )
        if self.delimiter != ",":
            reasons.append(f"{DELIMITER_NAMES[self.delimiter]}-separated")
        if self.trailing_delimiter:
            reasons.append("a delimiter closing every line (the empty last column is dropped)")
        elif not self.plain_header and self.delimiter == ",":
            reasons.append("a quoted or space-padded header")
        return reasons

    def describe(self) -> str:
        return ", ".join(self.copy_reasons()) or "plain comma-separated UTF-8"


def open_binary(path: str) -> IO[bytes]:
    """The file's bytes, decompressed when it is gzip or bzip2 (by its first bytes)."""
    if paths.is_uri(path):
        import tensorflow as tf

        raw: IO[bytes] = tf.io.gfile.GFile(path, "rb")
    else:
        raw = open(path, "rb")
    magic = raw.read(3)
    raw.seek(0)
    if magic.startswith(GZIP_MAGIC):
        return gzip.GzipFile(fileobj=raw)  # type: ignore[return-value]
    if magic.startswith(BZIP2_MAGIC):
        return bz2.BZ2File(raw)  # type: ignore[return-value]
    return raw


def compression_of(handle: IO[bytes]) -> str:
    """What `open_binary` decompressed: "gzip", "bz2" or ""."""
    return {"GzipFile": "gzip", "BZ2File": "bz2"}.get(type(handle).__name__, "")


def encoding_of(sample: bytes) -> str:
    """The codec of a file from its first bytes: a byte-order mark says UTF-8 or UTF-16; else
    UTF-8 when the sample decodes as UTF-8, else the Windows code page a spreadsheet writes."""
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
        return "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        sample.decode("cp1252")
        return "cp1252"
    except UnicodeDecodeError:
        return "latin-1"


def delimiter_of(lines: List[str]) -> str:
    """The candidate delimiter that splits the sampled lines into the same number (> 1) of fields
    most often; a comma when none does (a one-column file)."""
    best, best_score = ",", (0.0, 0)
    for delimiter in DELIMITERS:
        counts = [len(row) for row in csv.reader(lines, delimiter=delimiter) if row]
        if not counts:
            continue
        header = counts[0]
        score = (sum(c == header for c in counts) / len(counts), header)
        if header > 1 and score > best_score:
            best, best_score = delimiter, score
    return best


def sniff(path: str) -> CsvForm:
    """The form of one CSV file, from its first SAMPLE_BYTES (decompressed) bytes."""
    with open_binary(path) as handle:
        sample = handle.read(SAMPLE_BYTES)
        compression = compression_of(handle)
    encoding = encoding_of(sample)
    text = codecs.getincrementaldecoder(encoding)(errors="replace").decode(sample, final=False)
    lines = text.splitlines(keepends=True)
    if len(lines) > 1 and len(sample) == SAMPLE_BYTES:
        lines = lines[:-1]  # the last may be cut
    lines = lines[:SNIFFED_LINES]
    if not lines or not lines[0].strip():
        raise ValueError(f"{path} is empty: expected a header line")
    delimiter = delimiter_of(lines)
    written = next(csv.reader(lines[:1], delimiter=delimiter))
    trailing = len(written) > 1 and not written[-1].strip()
    header = tuple(name.strip() for name in (written[:-1] if trailing else written))
    return CsvForm(
        path=path,
        compression=compression,
        encoding=encoding,
        delimiter=delimiter,
        header=header,
        trailing_delimiter=trailing,
        plain_header=tuple(lines[0].strip().split(",")) == header,
    )


def rows(form: CsvForm, limit: Optional[int] = None) -> Iterator[Tuple[int, List[str]]]:
    """(line number, cells) of each data row, header skipped, blank lines skipped, the empty last
    column of a trailing delimiter dropped; a row of another width, or a byte the encoding cannot
    read, fails naming the file and line. `limit`: at most that many rows."""
    width = len(form.header)
    with open_binary(form.path) as raw:
        text = io.TextIOWrapper(raw, encoding=form.encoding, newline="")
        reader = csv.reader(text, delimiter=form.delimiter)
        try:
            next(reader)
            for count, row in enumerate(reader):
                if limit is not None and count >= limit:
                    return
                if not row or (len(row) == 1 and not row[0].strip()):
                    continue
                if form.trailing_delimiter and len(row) == width + 1 and not row[-1].strip():
                    row = row[:-1]
                if len(row) != width:
                    raise ValueError(
                        f"{form.path}:{reader.line_num}: {len(row)} cell(s) where the header has "
                        f"{width} ({DELIMITER_NAMES[form.delimiter]}-separated)"
                    )
                yield reader.line_num, row
        except UnicodeDecodeError as error:
            raise ValueError(
                f"{form.path}: byte {error.object[error.start : error.start + 1]!r} after line "
                f"{reader.line_num} is not {form.encoding}; save the file as UTF-8"
            ) from None
        except csv.Error as error:
            raise ValueError(f"{form.path}:{reader.line_num}: {error}") from None


def plain_numbers(row: List[str], delimiter: str) -> List[str]:
    """Decimal commas (`3,5`, `1.234,5`) as decimal points, in files not separated by commas
    (where a comma can only be a decimal one)."""
    if delimiter == ",":
        return row
    return [
        cell.strip().replace(".", "").replace(",", ".")
        if DECIMAL_COMMA.fullmatch(cell.strip())
        else cell
        for cell in row
    ]
