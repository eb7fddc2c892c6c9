"""displaCy for the `sinet` component's Docs: the entities in displaCy's span style (with labels
that keep clear of each other on long texts) and the relations in a table beneath them, on one
self-contained HTML page (nothing fetched).

    html = render(doc)                      # a whole page
    Path("doc.html").write_text(html, encoding="utf-8")

The entities alone are plain displaCy: `displacy.render(doc, style="span", options={"spans_key": "sinet"})`.
"""
from html import escape
from typing import Dict, Iterable, List, Optional

from spacy import displacy
from spacy.tokens import Doc

from sinet_allen.spacy_pipeline.relations import relations_of

# Light colours that keep black label text readable; entity types take them in sorted order.
PALETTE = ("#7aecec", "#feca74", "#bfeeb7", "#ddd0fa", "#f8b3c6", "#c7d9f8", "#ffeb80", "#e4e7d2",
           "#9be0a8", "#ffc69c")

# displaCy's span style with our markup (its `template` option): the same look, classes to find the
# parts by, and a layout that holds on long texts with deep nesting. Each token is a one-cell grid
# whose items are its text and, hidden, one spacer per entity over it: a spacer as tall as its
# bar's offset plus the label (displaCy sizes a token by its number of entities, so a bar on a
# deep row, its rows above having ended, hung into the next line), and a copy of each label
# starting on it, so that the token is at least as wide as its labels (the labels of spans that
# start on neighbouring short tokens would cover each other). The text is the first item, so
# it gives the token's baseline.
TOKEN_TEMPLATE = """<span class="sinet-token" style="font-weight: bold; display: inline-grid; position: relative; min-height: {total_height}px;"><span class="sinet-text" style="grid-area: 1 / 1;">{text}</span>{span_slices}{span_starts}</span>
"""
BAR_STYLE = "background: {bg}; top: {top_offset}px; height: 4px; left: -1px; width: calc(100% + 2px); position: absolute;"
SLICE_TEMPLATE = (f'<span class="sinet-bar" style="{BAR_STYLE}"></span>'
                  '<span aria-hidden="true" style="grid-area: 1 / 1; height: {top_offset}px; padding-bottom: 12px;"></span>')
START_TEMPLATE = (f'<span class="sinet-bar" style="{BAR_STYLE} border-radius: 3px 0 0 3px;">'
                  '<span class="sinet-label" style="background: {bg}; z-index: 10; color: #000; top: -0.5em; '
                  'padding: 2px 3px; position: absolute; font-size: 0.6em; line-height: 1; border-radius: 3px; '
                  'white-space: nowrap;">{label}{kb_link}</span></span>'
                  '<span aria-hidden="true" style="grid-area: 1 / 1; height: 0; overflow: hidden; visibility: hidden; '
                  'font-size: 0.6em; padding: 0 7px 0 3px; white-space: nowrap;">{label}</span>')
TEMPLATES = {"span": TOKEN_TEMPLATE, "slice": SLICE_TEMPLATE, "start": START_TEMPLATE}

PAGE = """<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>{title}</title>
<style>
body {{ font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; margin: 2em; max-width: 70em; }}
table.sinet-relations {{ border-collapse: collapse; margin-top: 1.5em; font-size: 0.95em; }}
table.sinet-relations th, table.sinet-relations td {{ border-bottom: 1px solid #ddd; padding: 0.3em 0.8em; text-align: left; }}
table.sinet-relations .type {{ font-size: 0.75em; padding: 0.1em 0.3em; border-radius: 3px; margin-left: 0.3em; }}
</style></head>
<body>
{content}
</body>
</html>
"""


def type_colors(labels: Iterable[str]) -> Dict[str, str]:
    """A colour per entity type, given in sorted order from `PALETTE` (cycled)."""
    return {label: PALETTE[k % len(PALETTE)] for k, label in enumerate(sorted(set(labels)))}


def render(doc: Doc, spans_key: str = "sinet", page: bool = True, title: Optional[str] = None,
           colors: Optional[Dict[str, str]] = None) -> str:
    """The Doc's entities (displaCy's span style) and its relations (a table); a whole HTML page
    when `page`, else the markup to put into one. `colors` maps entity types to CSS colours
    (default: `type_colors` of the Doc's types)."""
    colors = colors or type_colors(span.label_ for span in doc.spans.get(spans_key, []))
    spans = displacy.render(doc, style="span", page=False, jupyter=False,
                            options={"spans_key": spans_key, "colors": colors, "template": TEMPLATES})
    content = spans + relations_table(doc, spans_key, colors)
    return PAGE.format(title=escape(title or "sinet"), content=content) if page else content


def relations_table(doc: Doc, spans_key: str = "sinet", colors: Optional[Dict[str, str]] = None) -> str:
    """The Doc's relations as an HTML table: head, relation, tail, score (a line saying there are
    none when there are none)."""
    relations = relations_of(doc, spans_key) if spans_key in doc.spans else []
    if not relations:
        return '<p class="sinet-relations">No relations.</p>'
    colors = colors or {}
    rows: List[str] = []
    for relation in relations:
        cells = (_entity_cell(relation.head, colors), escape(relation.label), _entity_cell(relation.tail, colors),
                 f"{relation.score:.2f}")
        rows.append("<tr>" + "".join(f"<td>{cell}</td>" for cell in cells) + "</tr>")
    header = "<tr><th>head</th><th>relation</th><th>tail</th><th>score</th></tr>"
    return f'<table class="sinet-relations">{header}{"".join(rows)}</table>'


def _entity_cell(span, colors: Dict[str, str]) -> str:
    color = colors.get(span.label_, "#ddd")
    return (f'{escape(span.text)}<span class="type" style="background: {color}">'
            f"{escape(span.label_)}</span>")
