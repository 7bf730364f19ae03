"""Command line with BiaPy's flags: ``i2i-nb --config CFG --result_dir DIR --name N ...``.

Sub-commands: ``i2i-nb demo-data DIR [--ndim 3]`` writes the built-in demo dataset;
``i2i-nb demo [--ndim 3] [--result_dir DIR]`` writes it and runs the demo config on it;
``i2i-nb export-bmz CHECKPOINT OUT --image TIF [--target TIF]`` writes a BioImage Model Zoo
package (see :mod:`i2i_nb.bmz.cli`).
"""
# torch is imported only once a run starts: --help, --version and config errors answer
# in a fraction of a second (tests/unit/test_startup.py).

from __future__ import annotations

import argparse
import os
import signal
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path

import yaml

from i2i_nb import __version__
from i2i_nb.config import Config, config_from_dict, load_config
from i2i_nb.errors import ConfigError, DataError
from i2i_nb.files import describe_os_error


def parse_overrides(items: Sequence[str]) -> dict:
    """``["TRAIN.EPOCHS=2", ...]`` as a nested dict of YAML-parsed values."""
    nested: dict = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep:
            raise ConfigError(f"--set {item!r}: expected KEY=VALUE, e.g. TRAIN.EPOCHS=5")
        node = nested
        *parents, leaf = key.strip().split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = yaml.safe_load(value)
    return nested


def _run_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="i2i-nb", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-cfg", "--config", required=True, help="BiaPy-style YAML config")
    parser.add_argument("-rdir", "--result_dir", default="results", help="results folder")
    parser.add_argument("-name", "--name", default="i2i_experiment", help="job name")
    parser.add_argument("-rid", "--run_id", type=int, default=1, help="run number")
    parser.add_argument("-gpu", "--gpu", default=None,
                        help="'cpu', 'cuda:0' or '0' (default: CUDA when available)")
    parser.add_argument("--resume", action="store_true",
                        help="continue training from this run's last checkpoint")
    parser.add_argument("--set", dest="overrides", action="append", default=[],
                        metavar="KEY=VALUE", help="override a config key, e.g. TRAIN.EPOCHS=5")
    parser.add_argument("--dist_timeout", type=float, default=600.0,
                        help="seconds before the other processes give up on a dead one")
    parser.add_argument("-v", "--version", action="version",
                        version=f"i2i-nb {__version__} (BiaPy 3.7 command line and configs)")
    dist_args = parser.add_argument_group("distributed (BiaPy's flags; torchrun sets these)")
    dist_args.add_argument("--world_size", type=int, default=1,
                           help="number of processes, when no launcher sets WORLD_SIZE")
    dist_args.add_argument("--local_rank", type=int, default=-1,
                           help="this process's device index (torch.distributed.launch)")
    dist_args.add_argument("--dist_on_itp", action="store_true",
                           help="read rank and size from an MPI launcher (OMPI_COMM_WORLD_*)")
    dist_args.add_argument("--dist_url", default="env://",
                           help="rendezvous of the process group (default env://)")
    dist_args.add_argument("--dist_backend", choices=("nccl", "gloo"), default=None,
                           help="process-group backend (default: nccl on CUDA, gloo on CPU)")
    return parser


def _demo_parser(prog: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=f"i2i-nb {prog}")
    parser.add_argument("--ndim", type=int, choices=(2, 3), default=2)
    if prog == "demo-data":
        parser.add_argument("folder", type=Path)
    else:
        parser.add_argument("--data_dir", type=Path, default=Path("demo_data"))
        parser.add_argument("-rdir", "--result_dir", default="results")
        parser.add_argument("-gpu", "--gpu", default=None)
        parser.add_argument("--set", dest="overrides", action="append", default=[])
        parser.add_argument("--dist_timeout", type=float, default=600.0)
    return parser


def _interrupted(cfg: Config | None) -> str:
    """What an interrupt leaves, and how to go on."""
    if cfg is None:
        return "interrupted"
    if cfg.train.enable:
        return ("interrupted: the best and last checkpoints of finished epochs are kept; "
                "run again with --resume to continue")
    return ("interrupted: images predicted so far are kept in per_image/ (each file "
            "complete); run the same command again to predict them all")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``i2i-nb`` and ``python -m i2i_nb``; returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    warnings.simplefilter("default")
    # A scheduler's SIGTERM stops training like Ctrl-C: checkpoints kept, --resume continues.
    previous = signal.signal(signal.SIGTERM, signal.default_int_handler)
    started = False
    cfg: Config | None = None
    try:
        if argv[:1] == ["demo-data"]:
            args = _demo_parser("demo-data").parse_args(argv[1:])
            from i2i_nb.demo import make_demo_data

            print(make_demo_data(args.folder, args.ndim))
            return 0
        if argv[:1] == ["export-bmz"]:
            from i2i_nb.bmz.cli import export_command

            return export_command(argv[1:])
        if argv[:1] == ["demo"]:
            args = _demo_parser("demo").parse_args(argv[1:])
            from i2i_nb.demo import demo_config, make_demo_data

            data_dir = make_demo_data(args.data_dir / f"{args.ndim}d", args.ndim)
            cfg = demo_config(data_dir, args.ndim)
            cfg = config_from_dict(parse_overrides(args.overrides), base=cfg)
            name, config_name = f"demo_{args.ndim}d", f"demo_{args.ndim}d.yaml"
            result_dir, run_id, resume = args.result_dir, 1, False
        else:
            args = _run_parser().parse_args(argv)
            cfg = load_config(args.config, parse_overrides(args.overrides))
            name, config_name = args.name, Path(args.config).name
            result_dir, run_id, resume = args.result_dir, args.run_id, args.resume
        from i2i_nb.distributed import start, world_from_env
        from i2i_nb.experiment import resolve_device, run
        from i2i_nb.report import report

        world = world_from_env(os.environ, getattr(args, "world_size", 1),
                               getattr(args, "local_rank", -1),
                               getattr(args, "dist_on_itp", False),
                               getattr(args, "dist_url", "env://"))
        device = resolve_device(args.gpu, world.local_rank, cfg.system.device)
        started = True
        start(world, device, args.dist_timeout, getattr(args, "dist_backend", None))
        result = run(cfg, result_dir, name, run_id, device, config_name, resume, world=world)
    except (ConfigError, DataError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except OSError as err:
        print(f"error: {describe_os_error(err)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(_interrupted(cfg), file=sys.stderr)
        return 130
    finally:
        signal.signal(signal.SIGTERM, previous)
        if started:
            from i2i_nb.distributed import stop

            stop()
    if not world.is_main:
        return 0
    if result.test_rows:
        print(report(result.test_rows))
    print(f"results: {result.paths.root}")
    return 0
