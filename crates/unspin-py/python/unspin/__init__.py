"""unspin: undo article spinning (automatic synonym swapping).

The work is done by the Rust core (the ``unspin._unspin`` extension); this package adds the
default model pack, loaded once per process, and one-call functions::

    >>> import unspin
    >>> unspin.restore("Six Russian troopers who fled the warfare in Ukraine")
    'Six Russian troopers who fled the war in Ukraine'
    >>> d = unspin.detect("Six Russian troopers who fled the warfare in Ukraine")
    >>> sorted(d)[:4]
    ['fingerprints', 'flagged', 'paragraphs', 'score']

``detect()`` returns the dict ``unspin detect --json`` prints (without ``"path"``); offsets in
dicts are bytes of the UTF-8 text, as in the CLI. The classes (``Restorer``, ``Detector``,
``Restoration``, ``Detection``, ``Span``, ``Evidence``, ``Hit``) also give code-point offsets
(``char_start``/``char_end``) that slice a Python ``str``.

The pack is ``Pack(path)``, else ``$UNSPIN_PACK``, else the pack shipped in the wheel. Every
analysing call releases the GIL; ``*_batch`` functions take lists (and ``threads=``).
Bad input raises ``ValueError`` (``TypeError`` for a wrong type); an unreadable file ``OSError``.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any, Dict, List, Optional

from ._unspin import (
    Alignment,
    Detection,
    Detector,
    Evidence,
    Fingerprints,
    Hit,
    Index,
    IndexBuilder,
    Match,
    Pack,
    Profile,
    RecordReader,
    Restoration,
    Restorer,
    Signature,
    Signer,
    Span,
    __version__,
    align,
    align_batch,
    read_records,
    screen_batch,
    spin,
)

__all__ = [
    "Alignment",
    "Detection",
    "Detector",
    "Evidence",
    "Fingerprints",
    "Hit",
    "Index",
    "IndexBuilder",
    "Match",
    "Pack",
    "Profile",
    "RecordReader",
    "Restoration",
    "Restorer",
    "Signature",
    "Signer",
    "Span",
    "__version__",
    "align",
    "align_batch",
    "default_pack",
    "default_pack_path",
    "detect",
    "detect_batch",
    "read_records",
    "restore",
    "restore_batch",
    "screen_batch",
    "spin",
]

_lock = threading.Lock()
_pack: Optional[Pack] = None
_restorer: Optional[Restorer] = None
_detector: Optional[Detector] = None


def default_pack_path() -> Path:
    """``$UNSPIN_PACK`` if set, else the pack shipped inside the package."""
    env = os.environ.get("UNSPIN_PACK")
    if env:
        return Path(env)
    return Path(__file__).with_name("default.unspin")


def default_pack() -> Pack:
    """The default pack, loaded on first use and then shared by the whole process (a Spark
    executor's Python worker loads it once, not once per task)."""
    global _pack
    if _pack is None:
        with _lock:
            if _pack is None:
                _pack = Pack(str(default_pack_path()))
    return _pack


def _default_restorer() -> Restorer:
    global _restorer
    if _restorer is None:
        pack = default_pack()
        with _lock:
            if _restorer is None:
                _restorer = Restorer(pack)
    return _restorer


def _default_detector() -> Detector:
    global _detector
    if _detector is None:
        pack = default_pack()
        with _lock:
            if _detector is None:
                _detector = Detector(pack)
    return _detector


def restore(text: str) -> str:
    """The restored text of ``text`` (every unchanged byte kept), with the default pack."""
    return _default_restorer().restore(text).text


def restore_batch(texts: List[str], *, threads: int = 1) -> List[str]:
    """``restore`` over a list, in order."""
    return _default_restorer().restore_texts(texts, threads=threads)


def detect(text: str) -> Dict[str, Any]:
    """Scores ``text``: the dict ``unspin detect --json`` prints (``score`` in [0, 1],
    ``flagged``, ``spans`` with byte offsets, ``paragraphs``, ``fingerprints``, ``spin_rate``,
    ``words``, ``scorer``, ``stage``)."""
    return _default_detector().detect(text).to_dict()


def detect_batch(texts: List[str], *, threads: int = 1) -> List[Dict[str, Any]]:
    """``detect`` over a list, in order."""
    return _default_detector().detect_dicts(texts, threads=threads)
