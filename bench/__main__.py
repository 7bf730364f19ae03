"""``python -m bench [--quick] [--only NAME ...] [--threads N]``: print the ratio table."""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from collections.abc import Callable

import torch

from bench import augment, epochs, levers, memory, monai_cmp, ooc, scaling, tiled, training, zarr_io
from bench.common import Row, Sizes, device, sizes, table

SECTIONS: dict[str, Callable[[Sizes], list[Row]]] = {
    "training": training.run, "tiled": tiled.run, "monai": monai_cmp.run,
    "memory": memory.run, "scaling": scaling.run, "ooc": ooc.run,
    "levers": levers.run, "epochs": epochs.run, "augment": augment.run,
    "zarr": zarr_io.run,
}


def main(argv: list[str] | None = None) -> int:
    """Run the selected sections and print one table."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes (minutes on 2 cores)")
    parser.add_argument("--only", action="append", choices=sorted(SECTIONS), metavar="NAME",
                        help=f"run only this section (repeatable): {', '.join(SECTIONS)}")
    parser.add_argument("--threads", type=int, help="torch CPU threads (default: torch's)")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    try:
        import monai
        monai_version = monai.__version__
    except ImportError:
        monai_version = "not installed"
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"i2i_nb bench ({'quick' if args.quick else 'full'}): torch {torch.__version__} on "
          f"{device()}, {torch.get_num_threads()} threads, {os.cpu_count()} CPUs (load average "
          f"{load:.1f}), {platform.machine()}, MONAI {monai_version}", flush=True)
    if torch.get_num_threads() > 1 and load > (os.cpu_count() or 1) - 0.5:
        print("warning: the CPUs are busy; multi-threaded timings will be swamped by threads "
              "waiting on each other (try --threads 1)", flush=True)
    rows: list[Row] = []
    for name in args.only or SECTIONS:
        began = time.perf_counter()
        rows += SECTIONS[name](sizes(args.quick))
        print(f"  {name}: {time.perf_counter() - began:.0f} s", file=sys.stderr, flush=True)
    print(table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
