"""The two things a notebook cell ends in besides a short note: a :class:`Table` (pandas,
rendered as HTML) and a :class:`Chart` (matplotlib, rendered as PNG, so that the nbconvert
HTML of an executed notebook embeds it as ``data:image/png``); and the status words and
their colours."""

from __future__ import annotations

import io

import pandas as pd
from IPython.display import Markdown
from matplotlib.figure import Figure

__all__ = ["Table", "Chart", "PASS", "FAIL", "WARN"]

PASS, FAIL, WARN = "pass", "FAIL", "warn"


class Table:
    """A pandas DataFrame shown as an HTML table (every row, no index).

    ``status`` columns holding ``pass``/``FAIL``/``warn`` are coloured.
    """

    def __init__(self, df: pd.DataFrame, *, caption: str | None = None, status: tuple[str, ...] = (),
                 numbers: dict[str, str] | None = None, wide: tuple[str, ...] = (), header: bool = True):
        self.df = df
        self.header = header
        self.caption = caption
        self.status = tuple(c for c in status if c in df.columns)
        self.numbers = {k: v for k, v in (numbers or {}).items() if k in df.columns}
        self.wide = tuple(c for c in wide if c in df.columns)

    def __len__(self) -> int:
        return len(self.df)

    def __repr__(self) -> str:
        head = f"{self.caption}\n" if self.caption else ""
        return head + (self.df.to_string(index=False) if len(self.df) else "(none)")

    def _repr_html_(self) -> str:
        st = self.df.style.hide(axis="index").format(na_rep="–")
        if not self.header:
            st = st.hide(axis="columns")
        if self.numbers:
            st = st.format(self.numbers, na_rep="–")
            st = st.set_properties(subset=list(self.numbers), **{"text-align": "right"})
        if self.status:
            st = st.map(_status_css, subset=list(self.status))
        if self.wide:
            st = st.set_properties(subset=list(self.wide), **{"white-space": "pre-wrap", "font-family": "monospace",
                                                              "font-size": "11px"})
        st = st.set_table_styles([
            {"selector": "", "props": "border-collapse: collapse; font-size: 12px; margin: 4px 0 12px 0;"},
            {"selector": "th", "props": "text-align: left; background: #f1f3f4; padding: 4px 8px; "
                                        "border-bottom: 1px solid #bdc1c6;"},
            {"selector": "td", "props": "text-align: left; padding: 3px 8px; border-bottom: 1px solid #e8eaed; "
                                        "vertical-align: top;"},
            {"selector": "caption", "props": "caption-side: top; text-align: left; font-weight: bold; "
                                             "padding: 4px 0; color: #202124;"},
        ])
        if self.caption:
            st = st.set_caption(self.caption)
        return st.to_html()


def _status_css(v) -> str:
    if v == PASS:
        return "background-color: #e6f4ea; color: #137333; font-weight: bold;"
    if v == FAIL:
        return "background-color: #fce8e6; color: #c5221f; font-weight: bold;"
    if v == WARN:
        return "background-color: #fef7e0; color: #b06000; font-weight: bold;"
    return ""


class Chart:
    """A matplotlib figure shown as a PNG (so HTML exports embed it as data:image/png)."""

    def __init__(self, figure: Figure, title: str):
        self.figure = figure
        self.title = title
        self._png: bytes | None = None

    def __repr__(self) -> str:
        return f"<chart: {self.title}>"

    def png(self) -> bytes:
        if self._png is None:
            buf = io.BytesIO()
            self.figure.savefig(buf, format="png", dpi=100, bbox_inches="tight", facecolor="white")
            self._png = buf.getvalue()
        return self._png

    def _repr_png_(self) -> tuple[bytes, dict]:
        return self.png(), {"alt": self.title}


def note(text: str) -> Markdown:
    """What a cell shows when there is nothing to draw or list: a line of Markdown."""
    return Markdown(text)


def kv(rows: list[tuple[str, object]], caption: str | None = None) -> Table:
    """A two-column table of facts, without a header row."""
    df = pd.DataFrame([{"": k, "value": "–" if v is None else str(v)} for k, v in rows])
    return Table(df, caption=caption, header=False)

