"""What can go wrong between sending a request and holding its whole answer, beyond httpx's own
errors. Raised inside the transport and translated once, by :func:`~._classify.classify`, into the
gateway's error tree."""

from __future__ import annotations


class TransportFault(Exception):
    """A fault of one exchange with a remote system (never raised out of the transport)."""


class DeadlineExceeded(TransportFault):
    """The answer was not complete within the request deadline (a slow or dripping server)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        super().__init__(f"no complete answer within the request deadline of {seconds:g} s")


class BodyTooLarge(TransportFault):
    """The answer's body is larger than the limit: refused before it is read into memory."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        super().__init__(f"the answer is larger than the limit of {_mb(limit)} MB")


class BrokeOff(TransportFault):
    """The connection failed while the body was being read."""

    def __init__(self, cause: BaseException) -> None:
        super().__init__(f"the answer broke off ({type(cause).__name__})")


class TooDeep(TransportFault):
    """A JSON answer nests deeper than the bound."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        levels = "level" if limit == 1 else "levels"
        super().__init__(f"the JSON answer nests deeper than {limit} {levels}")


def _mb(size: int) -> str:
    return f"{size / (1024 * 1024):g}"
