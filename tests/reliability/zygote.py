"""A process that imports i2i_nb once, then forks one real command-line run per request.

Protocol (one JSON line each way): the test writes ``{"args": [...], "log": PATH}``; the
zygote forks a child that runs ``i2i_nb.cli.main(args)`` with stdout and stderr in
``log``, answers ``{"pid": N}`` at once and ``{"status": S}`` once the child has ended
(``S`` is the negative signal number for a killed child, as ``subprocess`` reports it).
Forking skips Python's and torch's start-up, so a fault test can kill many runs at
random moments for the cost of the work itself. Run as ``python -m tests.reliability.zygote``.
"""

from __future__ import annotations

import json
import os
import sys

import matplotlib.figure  # noqa: F401 - imported once here, not in every child
import skimage.metrics  # noqa: F401
import torch
import torch.utils.tensorboard  # noqa: F401

from i2i_nb.cli import main


def _child(args: list[str], log: str) -> None:
    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)
    code = 1
    try:
        torch.set_num_threads(1)
        code = main(args)
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def serve() -> None:
    """Answer requests on stdin until it closes."""
    for line in sys.stdin:
        request = json.loads(line)
        pid = os.fork()
        if pid == 0:
            _child(request["args"], request["log"])
        print(json.dumps({"pid": pid}), flush=True)
        _, status = os.waitpid(pid, 0)
        code = -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)
        print(json.dumps({"status": code}), flush=True)


if __name__ == "__main__":
    serve()
