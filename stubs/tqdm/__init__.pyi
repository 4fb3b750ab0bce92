# The part of tqdm that odm uses (odm.cli, examples/demo.py); written against tqdm 4.70.1,
# which ships no type information.
from typing import Any, TextIO

class tqdm:
    n: float
    def __init__(
        self,
        iterable: Any = ...,
        desc: str | None = ...,
        total: float | None = ...,
        unit: str = ...,
        file: TextIO | None = ...,
        **kwargs: Any,
    ) -> None: ...
    def update(self, n: float | None = ...) -> bool | None: ...
    def close(self) -> None: ...
    def __enter__(self) -> tqdm: ...
    def __exit__(self, *exc: object) -> None: ...
