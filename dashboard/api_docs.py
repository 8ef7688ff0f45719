"""``/api/v1/docs``: the OpenAPI document as one plain HTML page, rendered here (no CDN, no Swagger UI).

Endpoints with their parameters and answers, then every schema's fields; all text escaped, the CSS
inlined like the login page's.
"""

from __future__ import annotations

import html
import re
from typing import Any

from dashboard import theme

STYLE = """
.fw-api { max-width: 72em; margin: 0 auto; padding: 1em 2em 3em; }
.fw-api code { background: #eef; padding: 0 .25em; border-radius: 3px; }
.fw-api h2 { margin-top: 1.6em; border-bottom: 2px solid #0d47a1; }
.fw-api h3 code { font-size: 1.05em; }
.fw-api .fw-method { display: inline-block; background: #0d47a1; color: #fff; padding: 0 .5em; border-radius: 3px;
  font-weight: bold; margin-right: .4em; }
.fw-api table.fw-table { margin: .4em 0 1em; }
"""


def _inline(text: str) -> str:
    """Escaped text with ``code`` spans and **bold** (the markdown the document uses, nothing else)."""
    escaped = html.escape(text)
    escaped = re.sub(r"`([^`]+)`", r"<code>\1</code>", escaped)
    return re.sub(r"\*\*([^*]+)\*\*", r"<strong>\1</strong>", escaped)


def _paragraphs(text: str) -> str:
    """Paragraphs and ``- `` lists of a description."""
    out = []
    for block in text.strip().split("\n\n"):
        lines = block.splitlines()
        if lines and lines[0].startswith("- "):
            items, current = [], ""
            for line in lines:
                if line.startswith("- "):
                    if current:
                        items.append(current)
                    current = line[2:]
                else:
                    current += " " + line.strip()
            items.append(current)
            out.append("<ul>" + "".join(f"<li>{_inline(item)}</li>" for item in items) + "</ul>")
        else:
            out.append(f"<p>{_inline(' '.join(line.strip() for line in lines))}</p>")
    return "".join(out)


def _type(schema: dict[str, Any]) -> str:
    """A schema in a few words: ``string (date-time)``, ``one of raw, 5m``, ``array of Station``."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return f'<a href="#schema-{name}">{name}</a>'
    if "enum" in schema:
        return "one of " + ", ".join(f"<code>{html.escape(str(v))}</code>" for v in schema["enum"])
    kind = schema.get("type", "")
    kinds = " or ".join(kind) if isinstance(kind, list) else str(kind)
    if kind == "array":
        return "array of " + _type(schema.get("items", {}))
    fmt = f" ({schema['format']})" if "format" in schema else ""
    return html.escape(kinds + fmt)


def _table(head: list[str], rows: list[list[str]]) -> str:
    cells = "".join(f"<th>{h}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f'<table class="fw-table"><tr>{cells}</tr>{body}</table>'


def _operation(path: str, method: str, operation: dict[str, Any], spec: dict[str, Any]) -> str:
    prefix = spec["servers"][0]["url"]
    parts = [
        f'<h3 id="op-{html.escape(operation["operationId"])}"><span class="fw-method">{method.upper()}</span>'
        f"<code>{html.escape(prefix + path)}</code> {html.escape(operation['summary'])}</h3>",
        _paragraphs(operation.get("description", "")),
    ]
    parameters = operation.get("parameters", [])
    if parameters:
        rows = [
            [
                f"<code>{html.escape(p['name'])}</code>",
                html.escape(p["in"]) + (" (required)" if p.get("required") else ""),
                _type(p["schema"]),
                _inline(p.get("description", "")),
            ]
            for p in parameters
        ]
        parts.append(_table(["parameter", "in", "value", "meaning"], rows))
    responses = []
    for code, given in operation["responses"].items():
        response = spec["components"]["responses"][given["$ref"].rsplit("/", 1)[-1]] if "$ref" in given else given
        media = next(iter(response.get("content", {}).items()), None)
        body = f"<code>{html.escape(media[0])}</code> {_type(media[1]['schema'])}" if media else ""
        responses.append([f"<code>{code}</code>", _inline(response["description"]), body])
    parts.append(_table(["status", "meaning", "body"], responses))
    return "".join(parts)


def _schema(name: str, schema: dict[str, Any]) -> str:
    rows = [
        [f"<code>{html.escape(field)}</code>", _type(sub), _inline(sub.get("description", ""))]
        for field, sub in schema.get("properties", {}).items()
    ]
    note = _paragraphs(schema.get("description", "")) if schema.get("description") else ""
    title = f'<h3 id="schema-{html.escape(name)}">{html.escape(name)}</h3>'
    return title + note + _table(["field", "value", "meaning"], rows)


def page(spec: dict[str, Any]) -> str:
    """The HTML page of an OpenAPI document."""
    info = spec["info"]
    operations = [
        _operation(path, method, operation, spec)
        for path, item in spec["paths"].items()
        for method, operation in item.items()
    ]
    schemes = [
        [f"<code>{html.escape(name)}</code>", html.escape(s["type"]), _inline(s.get("description", ""))]
        for name, s in spec["components"]["securitySchemes"].items()
    ]
    schemas = [_schema(name, schema) for name, schema in spec["components"]["schemas"].items()]
    prefix = html.escape(spec["servers"][0]["url"])
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(info["title"])}</title>'
        f'<style>{theme.CSS}{STYLE}</style></head><body><div class="fw-api">'
        f"<h1>{html.escape(info['title'])} <small>v{html.escape(info['version'])}</small></h1>"
        f"{_paragraphs(info['description'])}"
        f'<p>The same as OpenAPI {html.escape(spec["openapi"])}: <a href="{prefix}/openapi.json">'
        f"<code>{prefix}/openapi.json</code></a></p>"
        f"<h2>Login</h2>{_table(['scheme', 'type', 'meaning'], schemes)}"
        f"<h2>Endpoints</h2>{''.join(operations)}"
        f"<h2>Schemas</h2>{''.join(schemas)}"
        "</div></body></html>"
    )
