"""Pages read the way a user meets them: controls by their label, buttons and links by
their text, and forms sent with every value the browser would send (hidden fields,
ticked boxes, chosen options)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

from .helpers import follow_retry

VOID_ELEMENTS = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta"}


@dataclass
class Node:
    tag: str
    attrs: dict[str, str]
    parent: Node | None = None
    children: list = field(default_factory=list)

    def iter(self):
        yield self
        for child in self.children:
            if isinstance(child, Node):
                yield from child.iter()

    @property
    def text(self) -> str:
        parts = []

        def collect(node):
            for child in node.children:
                if isinstance(child, str):
                    parts.append(child)
                elif child.tag == "br":
                    parts.append(" ")
                else:
                    collect(child)

        collect(self)
        # Collapse spaces, but keep non-breaking ones (« 9,02 € »).
        return re.sub(r"[ \t\r\n\f]+", " ", "".join(parts)).strip()

    def find_all(self, tag: str | None = None, **attrs: str) -> list[Node]:
        return [
            node
            for node in self.iter()
            if (tag is None or node.tag == tag)
            and all(node.attrs.get(name.replace("_", "-")) == v for name, v in attrs.items())
        ]

    def find(self, tag: str | None = None, **attrs: str) -> Node | None:
        found = self.find_all(tag, **attrs)
        return found[0] if found else None

    def ancestor(self, tag: str) -> Node | None:
        node = self.parent
        while node is not None and node.tag != tag:
            node = node.parent
        return node

    @property
    def checked(self) -> bool:
        return "checked" in self.attrs

    @property
    def selected(self) -> str:
        """The value of a select's chosen option (the first one if none is marked), or
        of a radio group's ticked radio ("" if none is)."""
        if self.tag == "fieldset":
            ticked = [r for r in self.find_all("input", type="radio") if r.checked]
            return ticked[0].attrs["value"] if ticked else ""
        options = self.find_all("option")
        chosen = [o for o in options if "selected" in o.attrs] or options[:1]
        return chosen[0].attrs.get("value", chosen[0].text)


class _Builder(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = Node("#document", {})
        self.stack = [self.root]

    def handle_starttag(self, tag, attrs):
        node = Node(tag, {k: v or "" for k, v in attrs}, parent=self.stack[-1])
        self.stack[-1].children.append(node)
        if tag not in VOID_ELEMENTS:
            self.stack.append(node)

    def handle_startendtag(self, tag, attrs):
        node = Node(tag, {k: v or "" for k, v in attrs}, parent=self.stack[-1])
        self.stack[-1].children.append(node)

    def handle_endtag(self, tag):
        for index in range(len(self.stack) - 1, 0, -1):
            if self.stack[index].tag == tag:
                del self.stack[index:]
                return

    def handle_data(self, data):
        self.stack[-1].children.append(data)


class Page:
    """A page (or an htmx fragment) as the user perceives it."""

    def __init__(self, html: str):
        builder = _Builder()
        builder.feed(html)
        builder.close()
        self.root = builder.root

    @property
    def title(self) -> str:
        return self.root.find("title").text

    @property
    def text(self) -> str:
        return self.root.text

    @property
    def h1(self) -> str:
        return self.root.find("h1").text

    def labels(self) -> list[str]:
        """Every control's name: its <label>, its aria-label, or a radio group's legend."""
        named = [node.attrs["aria-label"] for node in self.root.iter() if "aria-label" in node.attrs
                 and node.tag in ("input", "select")]  # fmt: skip
        return [label.text for label in self.root.find_all("label")] + named + self._legends()

    def _legends(self) -> list[str]:
        return [self._group_name(node) for node in self._groups()]

    def _groups(self) -> list[Node]:
        return [
            node
            for node in self.root.find_all("fieldset")
            if node.find("input", type="radio") is not None
            and (node.find("legend") is not None or "aria-label" in node.attrs)
        ]

    @staticmethod
    def _group_name(group: Node) -> str:
        legend = group.find("legend")
        return legend.text if legend is not None else group.attrs["aria-label"]

    def control(self, label: str) -> Node:
        """The input or select whose name reads exactly ``label``, or the radio group
        (its fieldset) whose legend does."""
        found = [node for node in self.root.find_all("label") if node.text == label]
        named = [
            node
            for node in self.root.iter()
            if node.tag in ("input", "select") and node.attrs.get("aria-label") == label
        ] + [group for group in self._groups() if self._group_name(group) == label]
        assert len(found) + len(named) == 1, (
            f"{len(found) + len(named)} controls are named {label!r}; names: {self.labels()}"
        )
        if named:
            return named[0]
        control = self.root.find(id=found[0].attrs["for"])
        assert control is not None, f"the label {label!r} points at nothing"
        return control

    def label_of(self, control: Node) -> str:
        return self.root.find("label", **{"for": control.attrs["id"]}).text

    def has_label(self, label: str) -> bool:
        return label in self.labels()

    def button(self, text: str) -> Node:
        found = [node for node in self.root.find_all("button") if node.text == text]
        assert len(found) == 1, f"{len(found)} buttons read {text!r}"
        return found[0]

    def link(self, text: str) -> str:
        found = [node for node in self.root.find_all("a") if node.text == text]
        assert found, f"no link reads {text!r}"
        return found[0].attrs["href"]

    def error_summary(self) -> list[str]:
        summary = self.root.find(id="error-summary")
        return [] if summary is None else [item.text for item in summary.find_all("li")]

    def error_targets(self) -> list[str]:
        summary = self.root.find(id="error-summary")
        return [a.attrs["href"] for a in summary.find_all("a")]

    def field_error(self, label: str) -> str | None:
        """The message shown beside the control labelled ``label``, if any."""
        control = self.control(label)
        if control.tag == "fieldset":  # a radio group: its first radio carries its id
            control = control.find("input", type="radio")
        message = self.root.find(id=f"{control.attrs['id']}-error")
        return None if message is None else message.text.removeprefix("Erreur : ")

    def column(self, header: str) -> list[str]:
        """The cells of a table column, found by its header (each cell repeats it)."""
        return [cell.text for cell in self.root.find_all("td", data_label=header)]

    def form_data(self, button: str, fields: dict[str, str | bool]) -> tuple[str, dict]:
        """What the browser sends when ``button`` is pressed after filling ``fields``.

        ``fields`` maps a label to a text, an option's text (select), a radio's label or
        value (radio group, by its legend) or True/False (checkbox, radio).
        """
        pressed = self.button(button)
        form = pressed.ancestor("form")
        data: dict[str, str] = {}
        for node in form.iter():
            name = node.attrs.get("name")
            if not name or node.tag not in ("input", "select"):
                continue
            if node.tag == "select":
                data[name] = node.selected
            elif node.attrs.get("type") in ("checkbox", "radio"):
                if node.checked:
                    data[name] = node.attrs.get("value", "on")
            else:
                data[name] = node.attrs.get("value", "")
        for label, value in fields.items():
            control = self.control(label)
            assert control.ancestor("form") is form, f"{label!r} is not in the form"
            if control.tag == "fieldset":
                radios = control.find_all("input", type="radio")
                by_label = {self.label_of(radio): radio for radio in radios}
                radio = by_label.get(value) or next(r for r in radios if r.attrs["value"] == value)
                data[radio.attrs["name"]] = radio.attrs["value"]
                continue
            name = control.attrs["name"]
            if control.tag == "select":
                # An option by the text it shows, or by its value.
                options = {o.text: o.attrs.get("value", o.text) for o in control.find_all("option")}
                options.update({v: v for v in options.values()})
                data[name] = options[value]
            elif control.attrs.get("type") in ("checkbox", "radio"):
                if value:
                    data[name] = control.attrs.get("value", "on")
                elif data.get(name) == control.attrs.get("value", "on"):
                    del data[name]
            else:
                data[name] = value
        if "name" in pressed.attrs:
            data[pressed.attrs["name"]] = pressed.attrs.get("value", "")
        return form.attrs.get("action", ""), data


def submit(client, url: str, button: str, fields: dict | None = None, **kwargs):
    """Open ``url``, fill ``fields`` by their labels, press ``button``."""
    page = client.get(url)
    assert page.status_code == 200, (url, page.status_code, page.headers.get("Location"))
    action, data = Page(page.text).form_data(button, fields or {})
    return follow_retry(client, client.post(action or url, data=data, **kwargs))
