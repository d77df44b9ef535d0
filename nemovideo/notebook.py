"""Notebook helpers: progress bars that draw as widgets in Jupyter and as text in a terminal.

``Draft`` and ``RenderResult`` already render themselves in a notebook (``_repr_html_``: the
timeline as SVG, the video as a player). This module adds the progress bar, via ``tqdm.auto``
from the ``notebook`` extra (``pip install 'nemovideo[notebook]'``)::

    from nemovideo.notebook import progress_bar

    with progress_bar(desc="upload") as bar:
        media = await session.upload(files, progress=bar)
    job = await session.export()
    with progress_bar(desc="render", unit="%") as bar:
        result = await job.wait(progress=bar)
"""

from __future__ import annotations

from typing import Any

from nemovideo._util.closing import Closing

__all__ = ["ProgressBar", "progress_bar"]


class ProgressBar(Closing):
    """A ``(done, total)`` callback backed by one tqdm bar; the total may arrive with the first call.

    In Jupyter the bar is a widget. A saved notebook, or a viewer without widgets (GitHub,
    nbconvert), shows the widget's text form instead, which tqdm fixes when the bar appears
    ("0%"); closing the bar redraws that text, so it ends at what was done.
    """

    def __init__(self, total: int | None = None, *, desc: str = "", unit: str = "B") -> None:
        try:
            from tqdm.auto import tqdm
        except ImportError as exc:  # pragma: no cover - exercised only without the extra
            raise ImportError("Progress bars need tqdm: pip install 'nemovideo[notebook]'") from exc
        options: dict[str, Any] = {
            "total": total,
            "desc": desc,
            "unit": unit,
            "unit_scale": unit == "B",
        }
        self._shown: Any = None
        if _is_widget_bar(tqdm):
            from IPython.display import display

            self._bar: Any = tqdm(**options, display=False)
            self._shown = display(self._bar.container, display_id=True)  # type: ignore[no-untyped-call]
        else:
            self._bar = tqdm(**options)

    def __call__(self, done: int, total: int) -> None:
        if self._bar.total != total:
            self._bar.total = total
        self._bar.update(done - self._bar.n)

    @property
    def n(self) -> int:
        """The last ``done`` value drawn."""
        return int(self._bar.n)

    def close(self) -> None:
        """Finish the bar so the notebook cell stops redrawing it (``with`` does this for you)."""
        self._bar.close()
        if self._shown is not None:
            self._shown.update(self._bar.container)
            self._shown = None


def _is_widget_bar(cls: type) -> bool:
    """Whether ``tqdm.auto`` chose the Jupyter widget bar (it takes ``display=False``)."""
    try:
        from tqdm.notebook import tqdm as widget_bar
    except ImportError:  # pragma: no cover - tqdm without its notebook module
        return False
    return issubclass(cls, widget_bar)


def progress_bar(total: int | None = None, *, desc: str = "", unit: str = "B") -> ProgressBar:
    """A progress callback for ``upload(progress=)``, ``job.wait(progress=)``, ``job.download(...)``."""
    return ProgressBar(total, desc=desc, unit=unit)
