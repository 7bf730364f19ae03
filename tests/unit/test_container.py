"""The README's container commands are the ones CI runs (scripts/container_demo.sh)."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _readme_block(first: str) -> list[str]:
    """The README's command starting with ``first``, one line per continued line."""
    lines = (ROOT / "README.md").read_text().splitlines()
    start = lines.index(first)
    end = next(i for i in range(start, len(lines)) if not lines[i].endswith("\\"))
    return lines[start:end + 1]


def test_the_readme_cpu_run_is_the_one_ci_runs():
    readme = _readme_block("podman run --rm --network none \\")
    script = (ROOT / "scripts" / "container_demo.sh").read_text().splitlines()
    start = script.index(readme[0])
    ran = [line.split(" > ")[0] for line in script[start:start + len(readme)]]
    assert ran == readme
    assert readme[-1].strip() == "-gpu cpu"


def test_the_gpu_run_differs_only_by_the_device():
    cpu = _readme_block("podman run --rm --network none \\")
    gpu = _readme_block("docker run --rm --network none \\")
    assert gpu[1] == '    --gpus "device=$gpu_number" \\'
    assert gpu[-1].strip() == '-gpu "cuda:$gpu_number"'
    same = [2, 3, 4, 6, 7, 8, 9]  # the mounts and BiaPy's flags
    assert [gpu[i] for i in same] == [cpu[i - 1] for i in same]
    assert gpu[5].strip() == "localhost/i2i-nb:gpu \\"


def test_the_image_runs_the_cli_as_a_user_with_base_an_argument():
    text = (ROOT / "Containerfile").read_text()
    assert re.search(r"^ARG BASE=\S+$", text, re.M) and "FROM ${BASE}" in text
    assert "USER i2i" in text and 'ENTRYPOINT ["/opt/i2i/bin/i2i-nb"]' in text
    assert "--uid 1000" in text and "COPY i2i_nb" in text
    assert "bash scripts/container_demo.sh" in (ROOT / ".ci" / "run").read_text()
