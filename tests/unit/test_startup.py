"""``--help``, ``--version`` and config errors answer without importing torch."""

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = textwrap.dedent("""
    import contextlib, io, sys
    import i2i_nb, i2i_nb.cli, i2i_nb.config, i2i_nb.errors, i2i_nb.resources
    from i2i_nb.cli import main
    out = io.StringIO()
    codes = []
    for argv in (["--help"], ["--version"], ["--config", sys.argv[1]]):
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
            try:
                codes.append(main(argv))
            except SystemExit as stop:
                codes.append(stop.code)
    print(codes, "torch" in sys.modules)
    print(out.getvalue())
""")


def test_help_version_and_config_errors_do_not_import_torch(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("TRAIN:\n  EPOCHS: many\n")
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(bad)], capture_output=True,
                          text=True, cwd=ROOT, env={"PYTHONPATH": str(ROOT)}, check=True)
    first, rest = done.stdout.split("\n", 1)
    assert first == "[0, 0, 2] False", done.stdout + done.stderr
    assert "--config" in rest and "i2i-nb 0." in rest and "TRAIN.EPOCHS" in rest
