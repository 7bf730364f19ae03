#!/usr/bin/env bash
# Build the CPU container image on a local Debian base and run the 2D demo through it the
# way BiaPy's documentation runs BiaPy's image (its mounts and flags), then check the
# results tree and PSNR on the host. Needs root (or rootless podman), Debian's debootstrap
# and podman, and a .venv (scripts/install.sh; PYTHON to use another) for the demo data,
# its config and the checks.
# No registry of base images is needed: the base is debootstrapped from Debian's mirror.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$PWD/output/container
base=localhost/i2i-base:bookworm          # Debian bookworm + python3 (what python:*-slim gives)
image=localhost/i2i-nb:cpu
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
python=${PYTHON:-.venv/bin/python}
# overlay inside a container (or on an odd kernel) is not always possible: fall back to vfs
storage=()
if ! command podman info > /dev/null 2>&1 || [[ ${PODMAN_STORAGE_DRIVER:-} == vfs ]]; then
    storage=(--storage-driver vfs)
fi
podman() { command podman "${storage[@]}" "$@"; }
mkdir -p "$work"
SECONDS=0

# Machines that drop CAP_SYS_RESOURCE (podman's default rlimits cannot be set) and mount
# cgroups v1 beside an empty v2 hierarchy (crun refuses "hybrid" mode), as these CI VMs
# do: runc and rlimits below the current ones, only where the defaults do not start.
runs() { podman run --rm --entrypoint true "$1" > /dev/null 2>&1; }
quirks() {
    if ! runs "$1"; then
        cat > "$work/containers.conf" <<CONF
[containers]
default_ulimits = ["nofile=$(ulimit -n):$(ulimit -n)", "nproc=16384:16384"]
[engine]
runtime = "runc"
CONF
        export CONTAINERS_CONF=$work/containers.conf
        runs "$1" || { echo "podman cannot start a container here" >&2; exit 1; }
        echo "podman: runc with rlimits below this machine's ($CONTAINERS_CONF)"
    fi
}

# 1. The base: a minimal Debian made with debootstrap, imported as an image.
if ! podman image exists "$base"; then
    rm -rf "$work/rootfs"
    debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates \
        bookworm "$work/rootfs" "$mirror" > "$work/debootstrap.log"
    rm -rf "$work"/rootfs/var/cache/apt/archives/*.deb "$work"/rootfs/var/lib/apt/lists/*
    tar -C "$work/rootfs" -c . | podman import - "$base" > /dev/null
    rm -rf "$work/rootfs"
fi
quirks "$base"
echo "base image ready: $((SECONDS)) s"

# 2. The image, with pip reaching PyPI the way this machine's pip does: the host network,
#    the certificates this machine's pip trusts (a TLS-inspecting proxy), and a local
#    wheel folder holding the CPU torch where download.pytorch.org is not reachable; both
#    mounted read-only for the build only, none of them kept in the image.
pip_config() { "$python" -m pip config get "global.$1" 2>/dev/null || true; }
build_args=(--build-arg BASE="$base")
cert=${PIP_CERT:-$(pip_config cert)}
if [[ -n $cert && -f $cert ]]; then
    build_args+=(--volume "$cert:$cert:ro" --build-arg CA_BUNDLE="$cert")
fi
wheels=${PIP_FIND_LINKS:-$(pip_config find-links)}
if [[ -n $wheels && -d $wheels ]] && ls "$wheels"/torch-2.13.0+cpu-*.whl > /dev/null 2>&1; then
    build_args+=(--volume "$wheels:$wheels:ro" --build-arg WHEELS="$wheels"
                 --build-arg TORCH_VERSION=2.13.0+cpu --build-arg TORCH_INDEX=https://pypi.org/simple)
fi
built=$SECONDS
podman build --network host "${build_args[@]}" -t "$image" -f Containerfile . \
    > "$work/build.log" 2>&1 || { tail -n 40 "$work/build.log"; exit 1; }
echo "image built: $((SECONDS - built)) s, $(podman image inspect "$image" \
    --format '{{.Size}}' | awk '{printf "%.0f MB", $1 / 1e6}')"

# 3. The 2D demo data and its config on the host, a results folder the container's user
#    (uid 1000) may write.
job_cfg_file=$work/2d_image-to-image.yaml
data_dir=$work/data
result_dir=$work/exp_results
job_name=my_2d_image_to_image
job_counter=1
rm -rf "$data_dir" "$result_dir"
"$python" -m i2i_nb demo-data "$data_dir" > /dev/null
"$python" - "$data_dir" "$job_cfg_file" <<'PY'
import sys
from i2i_nb.config import config_from_dict, save_config
from i2i_nb.demo import demo_config
data, path = sys.argv[1:]
save_config(config_from_dict({"TRAIN": {"EPOCHS": 3}}, base=demo_config(data, 2)), path)
PY
mkdir -p "$result_dir" && chmod a+rwx "$result_dir"

# 4. BiaPy's command with this image (README, "Container"), without network.
ran=$SECONDS
podman run --rm --network none \
    --mount type=bind,source=$job_cfg_file,target=$job_cfg_file \
    --mount type=bind,source=$result_dir,target=$result_dir \
    --mount type=bind,source=$data_dir,target=$data_dir \
    localhost/i2i-nb:cpu \
        -cfg $job_cfg_file \
        -rdir $result_dir \
        -name $job_name \
        -rid $job_counter \
        -gpu cpu > "$work/run.log" 2>&1 || { tail -n 40 "$work/run.log"; exit 1; }
echo "demo run through the container: $((SECONDS - ran)) s"
podman run --rm --entrypoint id "$image" | grep -q "uid=1000(i2i)"

# 5. On the host: BiaPy's results tree, one prediction per test image, PSNR above the input's.
"$python" - "$result_dir/$job_name" "$job_name" "$job_counter" "$data_dir" <<'PY'
import csv
import sys
from pathlib import Path
root, name, run_id, data = Path(sys.argv[1]), sys.argv[2], sys.argv[3], Path(sys.argv[4])
run = root / "results" / f"{name}_{run_id}"
for path in [root / "config_files" / "2d_image-to-image.yaml",
             root / "checkpoints" / f"{name}_{run_id}-checkpoint-best.pth",
             run / "train_logs" / f"{name}_{run_id}_log.csv", run / "test_metrics.csv",
             run / "charts" / f"{name}_{run_id}_loss.png"]:
    assert path.is_file(), f"missing {path}"
assert any((run / "tensorboard").iterdir()), "no TensorBoard events"
tests = sorted(p.name for p in (data / "test" / "x").glob("*.tif"))
assert sorted(p.name for p in (run / "per_image").glob("*.tif")) == tests
rows = list(csv.DictReader((run / "test_metrics.csv").open()))
mean = rows[-1]
assert [r["file"] for r in rows[:-1]] == tests and mean["file"] == "mean"
psnr, identity = float(mean["psnr"]), float(mean["input_psnr"])
assert psnr > identity + 1.0, (psnr, identity)
print(f"results tree complete; PSNR {psnr:.2f} dB against {identity:.2f} dB for the input")
PY
echo "container demo: $SECONDS s in all"
