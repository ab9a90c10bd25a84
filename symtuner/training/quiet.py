"""Import Keras without the native start-up noise of TensorFlow on stderr.

TensorFlow's C++ libraries print several lines when they load and when the
first device is set up (oneDNN notes, "Could not find cuda drivers", a
failed ``cuInit`` on a machine without a GPU), and those written before
absl's logging is initialised ignore ``TF_CPP_MIN_LOG_LEVEL``. A study
imports Keras once, after every check that needs no Keras, through
:func:`import_keras_quietly` (``symtuner diagnose`` reads TensorBoard logs
inside :func:`native_notes_filtered`): file descriptor 2 points at a
temporary file meanwhile, and every line that is not one of those known
start-up notes is written back to stderr, so real errors still show.
``SYMTUNER_TF_LOGS=1`` keeps everything.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import re
import sys
import tempfile
from collections.abc import Iterator
from typing import Any

#: Set to 1 to see TensorFlow's start-up lines.
SHOW_ENV = "SYMTUNER_TF_LOGS"

#: The start of a native log line (a line without it continues the one before).
LOG_LINE = re.compile(r"^[IWEF]\d{4} |^WARNING: ")

#: The start-up notes dropped: absl's pre-initialisation banner and the native
#: [IWE] lines of the library loaders and device probes.
NOISE = re.compile(
    r"^(WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR"
    r"|[IWE]\d{4} [\d:. ]+\d+ (port|cudart_stub|cuda_platform|cuda_executor|cuda_dnn|cuda_fft|cuda_blas"
    r"|cuda_diagnostics|gpu_device|cpu_feature_guard|computation_placer)\.cc:\d+\].*)$")


def import_keras_quietly(show: bool = False) -> Any:
    """Import Keras and set up its backend's devices with the start-up notes filtered out
    (``show``, or the environment variable ``SYMTUNER_TF_LOGS=1``: with them).

    Under another backend (``KERAS_BACKEND=jax`` or ``torch``) TensorFlow is
    imported here as well when it is installed: symtuner's TensorBoard
    writer and data pipelines load it later, and its notes would come then.
    """
    with native_notes_filtered(show):
        import keras

        keras.ops.convert_to_numpy(keras.ops.ones((1,)))  # the first op probes the devices
        if keras.backend.backend() != "tensorflow" and importlib.util.find_spec("tensorflow") is not None:
            import tensorflow  # noqa: F401
    return keras


@contextlib.contextmanager
def native_notes_filtered(show: bool = False) -> Iterator[None]:
    """While the block runs, the native start-up notes written to file descriptor 2 are held back;
    every other line is written to stderr when it ends (``show`` or ``SYMTUNER_TF_LOGS=1``: all of them).

    Wrap the first import of TensorFlow (or of what imports it: Keras, TensorBoard's readers) in it.
    """
    if show or os.environ.get(SHOW_ENV) == "1":
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile(mode="w+b") as sink:
        os.dup2(sink.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            sink.seek(0)
            kept = _without_noise(sink.read().decode("utf-8", "replace").splitlines())
            for line in kept:
                print(line, file=sys.stderr)


def _without_noise(lines: list[str]) -> list[str]:
    """``lines`` less the start-up notes and the continuation lines of those notes."""
    kept: list[str] = []
    dropping = False
    for line in lines:
        if NOISE.match(line):
            dropping = True
        elif LOG_LINE.match(line) or not dropping:
            dropping = False
            if line.strip():
                kept.append(line)
    return kept
