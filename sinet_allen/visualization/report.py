"""`allennlp sinet-report`: one static HTML file (inline style and script, nothing fetched) with the
scores, a per-type F1 chart, the entity-type confusion matrix and every sentence with its errors
marked (sinet_allen/visualization/error_analysis.py), filterable by error kind; with two
prediction files, the two systems side by side on the same sentences."""
from html import escape
from pathlib import Path
from typing import Dict, List, Sequence

from allennlp.common.util import JsonDict

from sinet_allen.experiments.bootstrap import paired_records
from sinet_allen.files import atomic_output
from sinet_allen.metrics.joint_ie_f1 import TASK_LABELS, TASKS
from sinet_allen.predictors.prediction_format import read_predictions
from sinet_allen.visualization.error_analysis import ERROR_KINDS, NONE, entity_confusion, scores, sentence_errors

SYSTEM_COLOURS = ("#4a7ab5", "#d9822b")
STYLE = """
body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:80em;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:.5em 0 1.5em}td,th{border:1px solid #ccc;padding:.2em .5em;text-align:right}
th:first-child,td:first-child{text-align:left}.systems{display:grid;grid-template-columns:repeat(var(--n),1fr);gap:1em}
.sentence{border-top:1px solid #ddd;padding:.5em 0}.source{color:#777;font-size:12px}
.w{padding:0 1px;border-radius:2px}.gold{text-decoration:underline;text-decoration-color:#2a8a3a}
.err-missed-entity,.err-missed-relation{outline:2px dashed #c0392b}
.err-spurious-entity,.err-spurious-relation{background:#f6c6c0}
.err-wrong-entity-type,.err-wrong-relation-type{background:#f9e4a8}
.errors{margin:.2em 0 0 1em;padding:0;font-size:13px}.errors li{list-style:none}
.kind{display:inline-block;min-width:11em;color:#555}.hidden{display:none}
"""
SCRIPT = """
function applyFilter(){
  const wanted=[...document.querySelectorAll('input.kind-filter:checked')].map(b=>b.value);
  const errorsOnly=document.getElementById('errors-only').checked;
  document.querySelectorAll('.sentence').forEach(s=>{
    const kinds=s.dataset.kinds?s.dataset.kinds.split(' '):[];
    const show=kinds.some(k=>wanted.includes(k))||(!errorsOnly&&kinds.length===0);
    s.classList.toggle('hidden',!show);});
  document.getElementById('shown').textContent=document.querySelectorAll('.sentence:not(.hidden)').length;
}
document.querySelectorAll('input').forEach(b=>b.addEventListener('change',applyFilter));applyFilter();
"""


def write_report(prediction_files: Sequence[Path], output: Path) -> None:
    """Writes the report of one or two prediction files (with gold) to `output`, whole or not at all."""
    systems = [read_predictions(prediction_files[0])]
    for path in prediction_files[1:]:
        systems.append(paired_records(systems[0], read_predictions(path)))
    page = render([str(path) for path in prediction_files], systems)
    with atomic_output(output) as file:
        file.write(page)


def render(names: Sequence[str], systems: Sequence[Sequence[JsonDict]]) -> str:
    figures = [scores(records) for records in systems]
    body = [f"<h1>Error analysis</h1>{_systems_list(names, systems[0])}",
            "<h2>Scores (micro; macro F1 averages the types)</h2>", _overall_table(names, figures),
            "<h2>Per type</h2>", _per_type_table(names, figures),
            "<h2>Per-type F1</h2>", _f1_chart(names, figures),
            "<h2>Entity-type confusion (rows gold, columns predicted; spans matched by boundaries)</h2>",
            *(f"<h3>{_label(k)}</h3>{_confusion_table(records)}" for k, records in enumerate(systems)),
            "<h2>Sentences</h2>", _filters(), *(_sentence(k, group) for k, group in enumerate(zip(*systems)))]
    return ("<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>sinet-report</title>"
            f"<style>{STYLE}</style></head><body style='--n:{len(systems)}'>{''.join(body)}"
            f"<script>{SCRIPT}</script></body></html>\n")


def _label(index: int) -> str:
    return "AB"[index]


def _systems_list(names: Sequence[str], records: Sequence[JsonDict]) -> str:
    items = "".join(f"<li><b>{_label(k)}</b> = {escape(name)}</li>" for k, name in enumerate(names))
    return f"<ul>{items}</ul><p>{len(records)} sentences.</p>"


def _percent(value: float) -> str:
    return f"{100 * value:.2f}"


def _overall_table(names: Sequence[str], figures: Sequence[Dict[str, float]]) -> str:
    header = "".join(f"<th>P {_label(k)}</th><th>R {_label(k)}</th><th>F1 {_label(k)}</th><th>macro F1 {_label(k)}</th>"
                     for k in range(len(names)))
    rows = "".join(
        f"<tr><td>{TASK_LABELS[task]}</td>" + "".join(
            "".join(f"<td>{_percent(f[f'{task}_{measure}'])}</td>" for measure in ("precision", "recall", "f1", "macro_f1"))
            for f in figures) + "</tr>"
        for task in TASKS)
    return f"<table><tr><th></th>{header}</tr>{rows}</table>"


def _types(figures: Sequence[Dict[str, float]], task: str) -> List[str]:
    prefix = f"{task}_f1_"
    return sorted({key[len(prefix):] for f in figures for key in f if key.startswith(prefix)})


def _per_type_table(names: Sequence[str], figures: Sequence[Dict[str, float]]) -> str:
    header = "".join(f"<th>P {_label(k)}</th><th>R {_label(k)}</th><th>F1 {_label(k)}</th>" for k in range(len(names)))
    rows = []
    for task in ("ent", "rel_strict"):
        for label in _types(figures, task):
            cells = "".join(f"<td>{_percent(f.get(f'{task}_{measure}_{label}', 0.0))}</td>"
                            for f in figures for measure in ("precision", "recall", "f1"))
            rows.append(f"<tr><td>{TASK_LABELS[task]} {escape(label)}</td>{cells}</tr>")
    return f"<table><tr><th>type</th>{header}</tr>{''.join(rows)}</table>"


def _f1_chart(names: Sequence[str], figures: Sequence[Dict[str, float]]) -> str:
    """Horizontal bars, one group per type (entity types, then relation types), a bar per system."""
    bar, gap, label_width, width = 12, 8, 170, 420
    rows = [(task, label) for task in ("ent", "rel_strict") for label in _types(figures, task)]
    height = len(rows) * (len(figures) * bar + gap) + 30
    shapes = []
    y = 0
    for task, label in rows:
        shapes.append(f"<text x='{label_width - 6}' y='{y + bar * len(figures) / 2 + 4}' text-anchor='end'>"
                      f"{TASK_LABELS[task]} {escape(label)}</text>")
        for k, f in enumerate(figures):
            value = f.get(f"{task}_f1_{label}", 0.0)
            shapes.append(f"<rect class='bar' x='{label_width}' y='{y + k * bar}' width='{value * width:.1f}' "
                          f"height='{bar - 2}' fill='{SYSTEM_COLOURS[k]}'><title>{_label(k)}: {_percent(value)}</title></rect>"
                          f"<text x='{label_width + value * width + 4:.1f}' y='{y + k * bar + bar - 3}' "
                          f"font-size='10'>{_percent(value)}</text>")
        y += len(figures) * bar + gap
    legend = "".join(f"<rect x='{label_width + 90 * k}' y='{y + 6}' width='10' height='10' fill='{SYSTEM_COLOURS[k]}'/>"
                     f"<text x='{label_width + 90 * k + 14}' y='{y + 15}'>{_label(k)}</text>" for k in range(len(figures)))
    return (f"<svg xmlns='http://www.w3.org/2000/svg' width='{label_width + width + 60}' height='{height}' "
            f"font-size='12' font-family='sans-serif'>{''.join(shapes)}{legend}</svg>")


def _confusion_table(records: Sequence[JsonDict]) -> str:
    confusion = entity_confusion(records)
    types = sorted({label for pair in confusion for label in pair} - {NONE}) + [NONE]
    header = "".join(f"<th>{escape(label)}</th>" for label in types)
    rows = "".join(f"<tr><th>{escape(gold)}</th>" + "".join(f"<td>{confusion.get((gold, predicted), '')}</td>"
                                                            for predicted in types) + "</tr>" for gold in types)
    return f"<table class='confusion'><tr><th>gold \\ predicted</th>{header}</tr>{rows}</table>"


def _filters() -> str:
    boxes = "".join(f"<label><input type='checkbox' class='kind-filter' value='{_css(kind)}' checked> {kind}</label> "
                    for kind in ERROR_KINDS)
    legend = ("<span class='w gold'>gold entity</span> · <span class='w err-missed-entity'>missed</span> · "
              "<span class='w err-spurious-entity'>spurious</span> · <span class='w err-wrong-entity-type'>wrong type</span>")
    return (f"<p>Show sentences with: {boxes}<br><label><input type='checkbox' id='errors-only'> only sentences "
            f"with errors</label> · <span id='shown'></span> shown</p><p>Marks: {legend}</p>")


def _css(kind: str) -> str:
    return kind.replace(" ", "-")


def _sentence(index: int, records: Sequence[JsonDict]) -> str:
    columns, kinds = [], set()
    for k, record in enumerate(records):
        errors = sentence_errors(record)
        kinds.update(_css(error.kind) for error in errors)
        columns.append(_marked_sentence(record, errors, k, len(records)))
    source = escape(str(records[0].get("source", f"sentence {index + 1}")))
    return (f"<div class='sentence' data-kinds='{' '.join(sorted(kinds))}'><div class='source'>{source}</div>"
            f"<div class='systems'>{''.join(columns)}</div></div>")


def _marked_sentence(record: JsonDict, errors, system: int, systems: int) -> str:
    marks: Dict[int, set] = {}
    for error in errors:
        for word in error.words:
            marks.setdefault(word, set()).add(f"err-{_css(error.kind)}")
    gold_words = {word for entity in record["gold_entities"] for word in range(entity["start"], entity["end"])}
    words = " ".join(
        f"<span class='w {' '.join(sorted(marks.get(i, ())))}{' gold' if i in gold_words else ''}'>{escape(token)}</span>"
        for i, token in enumerate(record["tokens"]))
    items = "".join(f"<li class='error' data-kind='{_css(e.kind)}'><span class='kind'>{e.kind}</span>"
                    f"{escape(e.description)}</li>" for e in errors) or "<li>no error</li>"
    title = f"<b>{_label(system)}</b> " if systems > 1 else ""
    return f"<div>{title}<div class='words'>{words}</div><ul class='errors'>{items}</ul></div>"
