"""Native libraries (MediaPipe, FFmpeg inside OpenCV) write straight to file descriptor 2; this keeps their
chatter off the terminal so that buttwink's own one-line messages stay readable."""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import tempfile
from collections.abc import Iterator


@contextlib.contextmanager
def quiet_native_stderr() -> Iterator[None]:
    """Hide what native code (MediaPipe, FFmpeg) prints to file descriptor 2 (dozens of INFO/WARNING lines when a
    model loads or closes) so that our one-line messages stay readable. The captured text is logged at
    debug level, and re-printed if the block raises. ``BUTTWINK_NATIVE_LOGS=1`` turns this off."""
    if os.environ.get("BUTTWINK_NATIVE_LOGS") or not hasattr(os, "dup"):
        yield
        return
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except OSError:  # no usable fd 2 (embedded interpreter): nothing to hide
        yield
        return
    with tempfile.TemporaryFile() as sink:
        os.dup2(sink.fileno(), 2)
        failed = False
        try:
            yield
        except BaseException:
            failed = True
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            sink.seek(0)
            text = sink.read().decode(errors="replace")
            if text:
                logging.getLogger(__name__).debug("native log:\n%s", text)
                if failed:
                    sys.stderr.write(text)


def silence_native_stderr_for_process() -> bool:
    """For the command line: send what native code writes to file descriptor 2 (MediaPipe's ``W0000 ...``
    lines, FFmpeg's ``[mpeg4 @ ...]`` complaints) to the null device for the rest of the process, while
    Python's ``sys.stderr`` keeps writing to the terminal through a copy of the original descriptor. Child
    processes inherit the silence. Does nothing (returns False) when ``BUTTWINK_NATIVE_LOGS`` is set or when
    ``sys.stderr`` is not file descriptor 2 (a test runner capturing it)."""
    if os.environ.get("BUTTWINK_NATIVE_LOGS") or not hasattr(os, "dup2"):
        return False
    try:
        if sys.stderr is None or sys.stderr.fileno() != 2:
            return False
        sys.stderr.flush()
        saved = os.dup(2)
        devnull = os.open(os.devnull, os.O_WRONLY)
    except (OSError, ValueError, AttributeError):  # io.UnsupportedOperation is an OSError and a ValueError
        return False
    os.set_inheritable(saved, False)
    os.dup2(devnull, 2)
    os.close(devnull)
    encoding = getattr(sys.stderr, "encoding", None) or "utf-8"
    sys.stderr = open(saved, "w", encoding=encoding, errors="backslashreplace", buffering=1, closefd=True)  # noqa: SIM115
    return True
