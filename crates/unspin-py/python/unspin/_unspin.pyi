"""Type stubs for the Rust extension (crates/unspin-py/src). Offsets named start/end are bytes of
the UTF-8 text (as in the CLI's JSON); char_start/char_end are code points (they slice a str)."""

from os import PathLike
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple, Union

__version__: str

_Path = Union[str, PathLike[str]]

class Pack:
    """A loaded, verified model pack. Raises OSError (unreadable) or ValueError (invalid)."""

    def __init__(self, path: _Path) -> None: ...
    @property
    def path(self) -> str: ...
    @property
    def meta(self) -> Dict[str, Any]: ...

class Span:
    start: int
    end: int
    char_start: int
    char_end: int
    spun: str
    restored: str
    confidence: float
    log_odds: float
    source: str
    """"model", or "fingerprint" for a known tortured phrase."""
    alternatives: List[Tuple[str, float]]

class Restoration:
    @property
    def text(self) -> str: ...
    @property
    def spans(self) -> List[Span]: ...
    @property
    def spin_rate(self) -> float: ...
    @property
    def words(self) -> int: ...
    @property
    def scorer(self) -> str: ...
    def to_dict(self) -> Dict[str, Any]:
        """{"text", "spans", "spin_rate", "words", "scorer"}, as `unspin restore --json`."""

class Restorer:
    def __init__(
        self,
        pack: Optional[Pack] = None,
        *,
        profile: Union["Profile", _Path, None] = None,
        thesauri: Optional[Sequence[str]] = None,
        fingerprints: Union["Fingerprints", _Path, None] = None,
        precise: bool = False,
        neural_model: Optional[_Path] = None,
        neural_exact: bool = False,
    ) -> None: ...
    def restore(self, text: str) -> Restoration: ...
    def restore_pooled(self, texts: Sequence[str]) -> List[Restoration]:
        """Texts of one spinner restored together: one spin rate, each word decided once."""
    def restore_batch(self, texts: Sequence[str], *, threads: int = 1) -> List[Restoration]: ...
    def restore_texts(self, texts: Sequence[str], *, threads: int = 1) -> List[str]: ...
    @property
    def pack(self) -> Pack: ...
    @property
    def precise(self) -> Optional[str]: ...

class Evidence:
    start: int
    end: int
    char_start: int
    char_end: int
    spun: str
    original: str
    confidence: float
    log_odds: float
    alternatives: List[Tuple[str, float]]

class Hit:
    start: int
    end: int
    char_start: int
    char_end: int
    matched: str
    tortured: str
    expected: Optional[str]
    query: str

class Detection:
    @property
    def score(self) -> float: ...
    @property
    def flagged(self) -> bool: ...
    @property
    def spans(self) -> List[Evidence]: ...
    @property
    def paragraphs(self) -> List[Dict[str, Any]]: ...
    @property
    def fingerprints(self) -> List[Hit]: ...
    @property
    def spin_rate(self) -> float: ...
    @property
    def words(self) -> int: ...
    @property
    def scorer(self) -> str: ...
    @property
    def stage(self) -> str: ...
    def to_dict(self) -> Dict[str, Any]:
        """As `unspin detect --json` (without "path")."""

class Detector:
    def __init__(
        self,
        pack: Optional[Pack] = None,
        *,
        threshold: float = 0.5,
        screen_below: float = 0.0,
        profile: Union["Profile", _Path, None] = None,
        thesauri: Optional[Sequence[str]] = None,
        fingerprints: Union["Fingerprints", _Path, None] = None,
        precise: bool = False,
        neural_model: Optional[_Path] = None,
        neural_exact: bool = False,
    ) -> None: ...
    def detect(self, text: str) -> Detection: ...
    def detect_batch(self, texts: Sequence[str], *, threads: int = 1) -> List[Detection]: ...
    def detect_dicts(self, texts: Sequence[str], *, threads: int = 1) -> List[Dict[str, Any]]: ...
    @property
    def pack(self) -> Pack: ...
    @property
    def precise(self) -> Optional[str]: ...
    @property
    def threshold(self) -> float: ...

class Fingerprints:
    @staticmethod
    def import_csv(path: _Path, *, allow: Optional[Sequence[str]] = None) -> "Fingerprints": ...
    @staticmethod
    def load(path: _Path) -> "Fingerprints": ...
    def save(self, path: _Path) -> None: ...
    @property
    def errors(self) -> List[Tuple[int, int, str]]: ...
    @property
    def provenance(self) -> Dict[str, Any]: ...
    def find(self, text: str) -> List[Hit]: ...
    def find_batch(self, texts: Sequence[str], *, threads: int = 1) -> List[List[Hit]]: ...
    def substitution_pairs(self) -> List[Tuple[str, str]]: ...
    def __len__(self) -> int: ...

class Profile:
    @staticmethod
    def learn(pairs: Sequence[Tuple[str, str]]) -> "Profile": ...
    @staticmethod
    def load(path: _Path) -> "Profile": ...
    def save(self, path: _Path) -> None: ...
    def merge(self, other: "Profile") -> "Profile": ...
    @property
    def rules(self) -> List[Tuple[str, str, int]]: ...
    @property
    def pairs(self) -> int: ...
    @property
    def kept(self) -> Dict[str, int]: ...
    def __len__(self) -> int: ...

def spin(
    text: str,
    *,
    seed: int = 0,
    rate: float = 0.3,
    thesauri: Optional[Sequence[str]] = None,
    phrases: bool = False,
    frequency_exponent: float = 0.5,
    pack: Optional[Pack] = None,
) -> Tuple[str, List[Dict[str, Any]]]: ...

class Signature:
    @property
    def passages(self) -> List[Tuple[int, int, List[Optional[int]]]]: ...
    def bands(self) -> List[Tuple[int, int, int]]:
        """(passage_start, band, key) for every present band key."""
    def to_bytes(self) -> bytes: ...
    @classmethod
    def from_bytes(cls, data: bytes) -> "Signature": ...
    def __len__(self) -> int: ...
    def __eq__(self, other: object) -> bool: ...

class Signer:
    def __init__(
        self,
        pack: Optional[Pack] = None,
        *,
        window: Optional[int] = None,
        stride: Optional[int] = None,
        seed: Optional[int] = None,
    ) -> None: ...
    def sign(self, text: str, *, step: Optional[int] = None) -> Signature: ...
    def sign_batch(
        self, texts: Sequence[str], *, step: Optional[int] = None, threads: int = 1
    ) -> List[Signature]: ...
    @property
    def query_step(self) -> int: ...
    @property
    def bands(self) -> int: ...
    @property
    def content_from(self) -> int: ...
    @property
    def params(self) -> Dict[str, Any]: ...

class IndexBuilder:
    def __init__(
        self,
        pack: Optional[Pack] = None,
        *,
        window: Optional[int] = None,
        stride: Optional[int] = None,
        seed: Optional[int] = None,
    ) -> None: ...
    @staticmethod
    def open(path: _Path, pack: Optional[Pack] = None) -> "IndexBuilder": ...
    def add(self, id: str, text: str) -> None: ...
    def add_batch(self, docs: Sequence[Tuple[str, str]], *, threads: int = 1) -> None: ...
    def push(self, id: str, text: str, signature: Signature) -> None: ...
    def write(self, path: _Path) -> Dict[str, Any]: ...
    def signer(self) -> Signer: ...
    def __len__(self) -> int: ...

class Alignment:
    @property
    def score(self) -> float: ...
    @property
    def words(self) -> int: ...
    @property
    def matched(self) -> int: ...
    @property
    def explained(self) -> int: ...
    @property
    def unexplained(self) -> int: ...
    @property
    def conflicts(self) -> int: ...
    @property
    def source_start(self) -> int: ...
    @property
    def source_end(self) -> int: ...
    @property
    def edits(self) -> List[Dict[str, Any]]: ...
    def to_dict(self) -> Dict[str, Any]: ...

class Match:
    @property
    def id(self) -> str: ...
    @property
    def doc(self) -> int: ...
    @property
    def score(self) -> float: ...
    @property
    def bands(self) -> int: ...
    @property
    def alignment(self) -> Alignment: ...
    def to_dict(self, *, alignment: bool = True) -> Dict[str, Any]: ...

class Index:
    @staticmethod
    def open(path: _Path, pack: Optional[Pack] = None) -> "Index": ...
    def trace(
        self,
        text: str,
        *,
        top: int = 5,
        verify: int = 8,
        min_score: float = 0.6,
        profile: Union[Profile, _Path, None] = None,
        screen: int = 32,
    ) -> List[Match]: ...
    def trace_batch(
        self,
        texts: Sequence[str],
        *,
        top: int = 5,
        verify: int = 8,
        min_score: float = 0.6,
        profile: Union[Profile, _Path, None] = None,
        threads: int = 1,
        screen: int = 32,
    ) -> List[List[Match]]: ...
    def doc_id(self, doc: int) -> str: ...
    def doc_text(self, doc: int) -> str: ...
    @property
    def meta(self) -> Dict[str, Any]: ...
    def __len__(self) -> int: ...

def align(
    spun: str,
    source: str,
    *,
    hint: int = 0,
    profile: Union[Profile, _Path, None] = None,
    pack: Optional[Pack] = None,
) -> Alignment: ...
def align_batch(
    pairs: Sequence[Tuple[str, str, int]],
    *,
    threads: int = 1,
    profile: Union[Profile, _Path, None] = None,
    pack: Optional[Pack] = None,
) -> List[Alignment]: ...

def screen_batch(
    pairs: Sequence[Tuple[str, str]], *, min_shared_pairs: float = 0.06
) -> List[bool]: ...

class RecordReader(Iterator[Dict[str, Any]]):
    def __iter__(self) -> "RecordReader": ...
    def __next__(self) -> Dict[str, Any]: ...

def read_records(
    path: _Path,
    *,
    format: Optional[str] = None,
    field: str = "text",
    id_field: str = "id",
    max_record_bytes: Optional[int] = None,
    file: int = 0,
) -> RecordReader: ...
