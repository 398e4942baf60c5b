"""Writing a `Report` out: one self-contained HTML file, or Markdown with its PNG charts in a
folder of its own.

The HTML holds its styles and charts (PNG data URIs) inline and references nothing outside
itself: it opens offline and fetches nothing. Every cited number links to its source in the
appendix. A Markdown report ``NAME.md`` keeps its charts in ``NAME_files/``, a folder it owns.

A report owns its file by a marker chipgap writes as the file's last line, a generator tag with
chipgap's version and the SHA-256 of everything before it::

    <!-- generator: chipgap 0.1.0; sha256: 9f86d081884c7d65... -->

An existing file is replaced only when its marker is there and its hash matches its content (a
file chipgap wrote and nobody changed since), or with ``force``. A phrase a person could type
("chipgap report") proves nothing; a report someone edited is theirs.
"""

from __future__ import annotations

import base64
import hashlib
import html
import re
from pathlib import Path
from urllib.parse import quote

from chipgap import __version__
from chipgap.atomic import write_atomically
from chipgap.errors import ChipgapError, InputError
from chipgap.files import check_output, read_capped
from chipgap.report.document import Cell, Report, Section, Table
from chipgap.text import printable

CSS = """
body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d2330;max-width:1100px;
margin:0 auto;padding:24px 28px;background:#fff}
h1{font-size:28px;margin:0 0 4px}h2{font-size:21px;margin:36px 0 6px;border-bottom:2px solid #dde2ea;
padding-bottom:4px}h3{font-size:15px;margin:18px 0 6px}.sub{color:#5b6475;margin:0 0 18px}
.q{color:#41506b;font-style:italic;margin:0 0 10px}table{border-collapse:collapse;margin:6px 0 4px;
font-size:13px;width:100%}th,td{border-bottom:1px solid #e3e7ee;padding:4px 8px;text-align:left;
vertical-align:top}th{background:#f3f5f9;font-weight:600}td.n{text-align:right;white-space:nowrap;
font-variant-numeric:tabular-nums}.note{color:#5b6475;font-size:12.5px;margin:2px 0 12px}
sup a{text-decoration:none;color:#2a62c9;font-size:10px;margin-left:1px}figure{margin:12px 0}
figure img{max-width:100%;border:1px solid #e3e7ee}figcaption{color:#5b6475;font-size:12.5px}
.missing{background:#fff7e6;border-left:3px solid #f0a020;padding:6px 10px;font-size:13px;margin:8px 0}
.v-supported{color:#17753a;font-weight:600}.v-partly{color:#9a6a00;font-weight:600}
.v-not{color:#b3261e;font-weight:600}.v-cannot{color:#5b6475;font-weight:600}
nav ol{columns:2;font-size:14px}.src{font-size:12.5px}.src li{margin:2px 0}
.v-within{color:#9a6a00;font-weight:600}.v-contradicted{color:#b3261e;font-weight:600}
.asof{background:#f3f5f9;padding:6px 10px;font-size:13px}.dl{font-size:12px;color:#5b6475;margin:0 0 14px}
.dl code{font-size:11.5px;word-break:break-all}
"""


GENERATOR = f"chipgap {__version__}"
"""The HTML's generator meta tag (for readers; ownership is the marker's, `stamp`)."""
_MARKER = re.compile(rb"<!-- generator: chipgap ([0-9A-Za-z.+_-]{1,40}); sha256: ([0-9a-f]{64}) -->\n\Z")
MAX_REPORT_BYTES = 256_000_000
"""The largest file `is_report` reads to check its marker (a report is a few MB)."""
CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"
"""The report forbids itself any fetch: a browser blocks (and logs) anything not inline."""


def _esc(text: str) -> str:
    return html.escape(printable(str(text)), quote=True)


class _Refs:
    """Numbers the cited sources in order of first use and writes their superscript links."""

    def __init__(self, report: Report):
        self.order = {sid: i + 1 for i, sid in enumerate(report.cited())}

    def sup(self, sources: tuple[str, ...] | list[str], md: bool = False) -> str:
        known = [s for s in sources if s in self.order]
        if not known:
            return ""
        if md:
            return " " + "".join(f"[[{self.order[s]}]](#src-{s})" for s in known)
        return "<sup>" + "".join(f'<a href="#src-{_esc(s)}">[{self.order[s]}]</a>' for s in known) + "</sup>"


def _verdict_class(v: str) -> str:
    return "v-" + v.split()[0]


def _table_html(t: Table, refs: _Refs, name: str) -> str:
    head = "".join(f"<th>{_esc(c)}</th>" for c in t.columns)
    body = "".join("<tr>" + "".join(_cell_html(c, refs) for c in row) + "</tr>" for row in t.rows)
    note = f'<p class="note">{_esc(t.note)}</p>' if t.note else ""
    data = base64.b64encode(t.csv().encode("utf-8")).decode("ascii")
    cmd = f' Recompute: <code>{_esc(t.command)}</code>' if t.command else ""
    dl = (f'<p class="dl"><a download="{_esc(name)}.csv" href="data:text/csv;charset=utf-8;base64,{data}">'
          f"Download as CSV</a>{cmd}</p>")
    return f"<h3>{_esc(t.title)}</h3><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{note}{dl}"


def _cell_html(c: Cell, refs: _Refs) -> str:
    cls = ' class="n"' if c.numeric else ""
    return f"<td{cls}>{_esc(c.text)}{refs.sup(c.sources)}</td>"


def _section_html(s: Section, refs: _Refs) -> str:
    claim = f" (claim {s.claim})" if s.claim else ""
    parts = [f'<section id="{_esc(s.key)}"><h2>{_esc(s.title)}</h2>',
             f'<p class="q">{_esc(s.question)}{_esc(claim)}</p>']
    parts += [f"<p>{_esc(p)}</p>" for p in s.paragraphs]
    parts += [_table_html(t, refs, f"{s.key}-{i + 1}") for i, t in enumerate(s.tables)]
    for ch in s.charts:
        data = base64.b64encode(ch.png).decode("ascii")
        cap = _esc(ch.caption or ch.title)
        parts.append(f'<figure><img alt="{_esc(ch.title)}" src="data:image/png;base64,{data}">'
                     f"<figcaption>{cap}</figcaption></figure>")
    if s.missing:
        parts.append('<div class="missing"><b>Not computed:</b><ul>'
                     + "".join(f"<li>{_esc(m)}</li>" for m in s.missing) + "</ul></div>")
    if s.sources:
        parts.append(f'<p class="note">Inputs from: {refs.sup(sorted(s.sources))}</p>')
    parts.append("</section>")
    return "\n".join(parts)


def _short(text: str, most: int = 70) -> str:
    return text if len(text) <= most else text[: most - 1].rstrip() + "\u2026"


def _first_screen_html(report: Report) -> str:
    """One line per question: the article's claim, the answer with its range, the verdict; the
    data date and the newest sources above them."""
    rows = "".join(
        f'<tr><td class="n">{c.number}</td><td>{_esc(c.claim)}</td><td>{_esc(c.headline or c.evidence)}</td>'
        f'<td class="{_verdict_class(c.verdict)}">{_esc(c.verdict)}</td>'
        f'<td><a href="#{_esc(c.section)}">details</a></td></tr>' for c in report.claims)
    newest = "; ".join(f"{_short(n['title'])} ({n['date']}" + (f", feeds {', '.join(n['feeds'][:2])}" if n["feeds"]
                                                                   else "") + ")" for n in report.newest[:5])
    asof = (f'<p class="asof"><b>Data as of {_esc(report.data_date)}</b> (the newest source in the catalog). '
            f"What the newest data changed: {_esc(newest)}.</p>" if report.data_date else "")
    return (f'<section id="answers"><h2>The ten questions, answered</h2>{asof}'
            "<table><thead><tr><th>#</th><th>the article's claim</th><th>answer (range)</th><th>verdict</th>"
            f"<th></th></tr></thead><tbody>{rows}</tbody></table>"
            '<p class="note">Verdicts: supported or contradicted when the whole range, widened by the model\'s '
            "cross-validated error, lies on one side of the claim's line; within the model's error when it straddles "
            "it; cannot be computed when an input has no source. Numbers are rounded to what their ranges support."
            "</p></section>")


def to_html(report: Report) -> str:
    """The whole report as one HTML document (no external references): the first screen (one
    line per question, the data date), the claims ledger, the sections, the sources."""
    refs = _Refs(report)
    nav = "".join(f'<li><a href="#{_esc(s.key)}">{_esc(s.title)}</a></li>' for s in report.sections)
    ledger_rows = "".join(
        f'<tr><td class="n">{c.number}</td><td>{_esc(c.claim)}</td><td>{_esc(c.evidence)}</td>'
        f'<td class="{_verdict_class(c.verdict)}">{_esc(c.verdict)}</td><td>{_esc(c.assumptions)}</td>'
        f'<td><a href="#{_esc(c.section)}">section</a></td></tr>' for c in report.claims)
    sources = "".join(_source_html(sid, report.sources[sid]) for sid in refs.order)
    body = "\n".join(_section_html(s, refs) for s in report.sections)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="{CSP}">
<meta name="generator" content="{GENERATOR}">
<title>{_esc(report.title)}</title><style>{CSS}</style></head>
<body><h1>{_esc(report.title)}</h1><p class="sub">{_esc(report.subtitle)}</p>
{_first_screen_html(report)}
<nav><ol><li><a href="#answers">The ten questions, answered</a></li><li><a href="#claims">Claims ledger</a></li>{nav}<li><a href="#sources">Sources</a></li></ol></nav>
<section id="claims"><h2>Claims ledger</h2>
<p class="q">Each claim of the article, what chipgap computes, and a verdict by the rules of chipgap.analyses.claims.</p>
<table><thead><tr><th>#</th><th>claim</th><th>evidence</th><th>verdict</th><th>assumptions</th><th></th></tr>
</thead><tbody>{ledger_rows}</tbody></table></section>
{body}
<section id="sources"><h2>Sources</h2><ol class="src">{sources}</ol></section>
</body></html>
"""


def _source_html(sid: str, src) -> str:  # noqa: ANN001
    meta = ", ".join(x for x in (src.publisher, src.date, src.kind) if x)
    url = f" {_esc(src.url)}" if src.url else ""  # shown as text: the report itself links nowhere outside
    return f'<li id="src-{_esc(sid)}"><b>{_esc(src.title)}</b> ({_esc(meta)}).{url} <code>{_esc(sid)}</code></li>'


def to_markdown(report: Report, charts: str = "report_files") -> tuple[str, dict[str, bytes]]:
    """The report as Markdown, and the PNG charts and CSV tables (name -> bytes) it refers to, as
    files of the folder ``charts`` beside it. Every text is escaped (`md_text`): no markup or HTML from the
    catalog (a chip name, a source title) reaches the rendered page."""
    refs = _Refs(report)
    out = [f"# {md_text(report.title)}", "", f"_{md_text(report.subtitle)}_", "", "## The ten questions, answered", ""]
    if report.data_date:
        out += [f"**Data as of {md_text(report.data_date)}** (the newest source in the catalog). Newest data: "
                + md_text("; ".join(f"{n['title']} ({n['date']})" for n in report.newest)) + ".", ""]
    out += ["| # | the article's claim | answer (range) | verdict |", "|---|---|---|---|"]
    out += [f"| {c.number} | {md_text(c.claim)} | {md_text(c.headline or c.evidence)} | **{md_text(c.verdict)}** |"
            for c in report.claims]
    out += ["", "## Claims ledger", "", "| # | claim | evidence | verdict | assumptions |", "|---|---|---|---|---|"]
    out += [f"| {c.number} | {md_text(c.claim)} | {md_text(c.evidence)} | **{md_text(c.verdict)}** | "
            f"{md_text(c.assumptions)} |" for c in report.claims]
    files: dict[str, bytes] = {}
    for s in report.sections:
        out += ["", f'<a id="{_esc(s.key)}"></a>', f"## {md_text(s.title)}", "", f"_{md_text(s.question)}_", ""]
        out += [md_text(p) + "\n" for p in s.paragraphs]
        for i, t in enumerate(s.tables):
            name = f"{s.key}-{i + 1}.csv"
            files[name] = t.csv().encode("utf-8")
            out += [f"### {md_text(t.title)}", "", "| " + " | ".join(md_text(c) for c in t.columns) + " |",
                    "|" + "---|" * len(t.columns)]
            out += ["| " + " | ".join(md_text(c.text) + refs.sup(c.sources, md=True) for c in row) + " |"
                    for row in t.rows]
            out += ["", f"_{md_text(t.note)}_" if t.note else "",
                    f"[CSV]({quote(charts)}/{quote(name)})" + (f" · recompute: {md_text(t.command)}" if t.command else ""),
                    ""]
        for ch in s.charts:
            files[ch.name] = ch.png
            out += [f"![{md_text(ch.title)}]({quote(charts)}/{quote(ch.name)})", ""]
        if s.missing:
            out += ["**Not computed:**", ""] + [f"- {md_text(m)}" for m in s.missing] + [""]
        if s.sources:
            out += [f"Inputs from:{refs.sup(sorted(s.sources), md=True)}", ""]
    out += ["## Sources", ""]
    for sid, i in refs.order.items():
        src = report.sources[sid]
        meta = ", ".join(x for x in (src.publisher, src.date, src.kind) if x)
        out.append(f'{i}. <a id="src-{_esc(sid)}"></a>**{md_text(src.title)}** ({md_text(meta)}). '
                   f'{md_text(src.url or "")} {md_text(sid)}')
    return "\n".join(out) + "\n", files


_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>|~&#!])")
_MD_LINE_START = re.compile(r"^([-+=>]|\d+[.)])")


def md_text(text: str) -> str:
    """Text as Markdown that renders as exactly that text: one line, control characters removed,
    Markdown's and HTML's special characters backslash-escaped, and a start that would open a
    list or a heading escaped too.

    >>> md_text('<img src=x onerror=alert(1)> *H100* | [a](http://e)')
    '\\\\<img src=x onerror=alert(1)\\\\> \\\\*H100\\\\* \\\\| \\\\[a\\\\](http://e)'
    >>> md_text("1. first\\n# second")
    '1\\\\. first \\\\# second'
    """
    text = _MD_SPECIAL.sub(r"\\\1", printable(str(text), newlines=False).strip())
    return _MD_LINE_START.sub(lambda m: m.group()[:-1] + "\\" + m.group()[-1], text)


def stamp(body: bytes) -> bytes:
    """``body`` with chipgap's ownership marker as its last line (see the module's docstring).

    >>> stamp(b"# x\\n").decode().splitlines()[-1].startswith("<!-- generator: chipgap ")
    True
    """
    if not body.endswith(b"\n"):
        body += b"\n"
    digest = hashlib.sha256(body).hexdigest()
    return body + f"<!-- generator: chipgap {__version__}; sha256: {digest} -->\n".encode()


def is_report(path: str | Path) -> bool:
    """True when ``path`` is a regular file that chipgap wrote and nobody changed since: its last
    line is chipgap's marker and the marker's hash is that of everything before it."""
    path = Path(path)
    if path.is_symlink() or not path.is_file():
        return False
    try:
        data = read_capped(path, MAX_REPORT_BYTES)
    except ChipgapError:
        return False
    m = _MARKER.search(data)
    return bool(m) and hashlib.sha256(data[:m.start()]).hexdigest() == m.group(2).decode()


def charts_folder(path: str | Path) -> Path:
    """The folder a Markdown report keeps its charts in: ``NAME_files`` beside ``NAME.md``.

    >>> charts_folder("out/report.md").as_posix()
    'out/report_files'
    """
    path = Path(path)
    return path.with_name(f"{path.stem}_files")


def check_report_path(path: str | Path, fmt: str = "html", force: bool = False) -> Path:
    """``path`` as a Path when a report in ``fmt`` may be written there (see `write_report`),
    checked before anything is computed; an `InputError` naming the problem otherwise."""
    if fmt not in ("html", "md"):
        raise InputError("format", "html or md", fmt)
    path = check_output(path, "output")
    ours = is_report(path)
    if path.exists() and not force and not ours:
        raise InputError("output", "a new file or an earlier chipgap report that nobody has changed "
                                   "(pass --force to replace another file)", str(path))
    if fmt == "md":
        folder = charts_folder(path)
        if folder.is_symlink() or (folder.exists() and not folder.is_dir()):
            raise InputError("output", f"a path whose chart folder {folder.name} is free: it is "
                                       f"{'a symbolic link' if folder.is_symlink() else 'a file'}", str(folder))
        if folder.exists() and not force and not ours:
            raise InputError("output", f"a path whose chart folder {folder.name} is free or an earlier "
                                       "report's (pass --force to write into it)", str(folder))
    return path


def write_report(report: Report, path: str | Path, fmt: str = "html", force: bool = False) -> Path:
    """Write ``report`` to ``path`` (Markdown also writes its PNG charts into `charts_folder`).

    An existing file is replaced only when chipgap wrote it and nobody changed it since (see
    `is_report`), or with ``force``; a Markdown report's chart folder is the report's when the
    report is (or with ``force``). Nothing is written through a symbolic link. Files are written
    to a temporary name and renamed, so an interrupted write never leaves a half-written report
    in place of a good one.

    Raises
    ------
    InputError
        When ``path`` exists and is not a chipgap report, is a folder, a FIFO, a device or a
        symbolic link; or when the chart folder exists and is not the report's (`check_report_path`).
    """
    path = check_report_path(path, fmt, force)
    if fmt == "html":
        _atomic_write(path, stamp(to_html(report).encode("utf-8")))
        return path
    folder = charts_folder(path)
    text, files = to_markdown(report, folder.name)
    for name, data in files.items():
        _atomic_write(check_output(folder / name, "output"), data)
    _atomic_write(path, stamp(text.encode("utf-8")))
    return path


def _atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(path, data)
