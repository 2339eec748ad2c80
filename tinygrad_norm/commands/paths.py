"""Output paths of the commands, checked before the work: a run that cannot save its results
should say so in its first second, not after minutes of training or timing."""
from __future__ import annotations

import os
import tempfile


def dir_problem(directory, names=()):
    """Why files cannot be written into ``directory`` (created if missing), or None. ``names``
    are the files the command will write there: one that is a directory is a problem too."""
    if not directory:
        return "must name a directory"
    if os.path.exists(directory) and not os.path.isdir(directory):
        return "is a file, not a directory"
    try:
        os.makedirs(directory, exist_ok=True)
        with tempfile.TemporaryFile(dir=directory):
            pass
    except OSError as e:
        return f"cannot be written to ({e.strerror or e})"
    for name in names:
        if os.path.isdir(os.path.join(directory, name)):
            return f"holds a directory named {name!r}, where the results go"
    return None


def file_problem(path):
    """Why ``path`` cannot be written as a file, or None (nothing is created)."""
    if not path:
        return "must name a file"
    if os.path.isdir(path):
        return "is a directory"
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        return f"directory {directory!r} does not exist"
    if os.path.exists(path) and not os.access(path, os.W_OK):
        return "is not writable"
    try:
        with tempfile.TemporaryFile(dir=directory):
            pass
    except OSError as e:
        return f"cannot be written: {directory!r} {e.strerror or e}"
    return None
