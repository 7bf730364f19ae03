"""The network's architecture as one self-contained Python file that imports only torch.

A zoo package's ``pytorch_state_dict`` weights need the source of the network. It is
written here from the code of :mod:`i2i_nb.models` itself, whatever its layout: the module
that defines ``build_model`` and every ``i2i_nb`` module it imports (transitively) are
parsed, their ``i2i_nb`` imports are resolved to the names they bind, names that two
modules define differently are renamed, and the modules are concatenated in dependency
order behind one entry function, :data:`ENTRY`. Imports other than torch and the standard
library are refused (:class:`BundleError`), since a zoo runtime cannot count on them.
:func:`check_source` then builds the network from the file, loads the weights strictly and
compares its output with the original's, so a file that does not reproduce the model is
never written.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import inspect
import sys
import tempfile
import types
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

ENTRY = "i2i_nb_network"
ALLOWED_ROOTS = frozenset({"torch"}) | frozenset(sys.stdlib_module_names)


class BundleError(RuntimeError):
    """The network's code cannot be written as a self-contained file."""


@dataclass
class _Module:
    """One parsed ``i2i_nb`` module and how its names map into the bundle."""

    name: str
    tree: ast.Module
    rename: dict[str, str] = field(default_factory=dict)  # local name -> bundle name
    aliases: dict[str, str] = field(default_factory=dict)  # local name -> i2i_nb module


def _absolute(module: str, node: ast.ImportFrom) -> str:
    """The absolute name of the module an ``ImportFrom`` in ``module`` reads from."""
    if not node.level:
        return node.module or ""
    spec = importlib.util.find_spec(module)
    is_package = spec is not None and spec.submodule_search_locations is not None
    parts = module.split(".")
    base = parts[:len(parts) - node.level + (1 if is_package else 0)]
    return ".".join([*base, node.module] if node.module else base)


def _is_module(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def _internal(name: str, root: str = "i2i_nb") -> bool:
    return name == root or name.startswith(f"{root}.")


class _Bundler:
    """Collects modules depth-first (dependencies first) and assigns bundle names."""

    def __init__(self, root: str) -> None:
        self.root = root
        self.modules: dict[str, _Module] = {}
        self.order: list[str] = []
        self.bound: dict[str, Any] = {}  # bundle name -> the object it stands for
        self.imports: dict[str, str] = {}  # external binding name -> import statement

    def add(self, name: str, stack: tuple[str, ...] = ()) -> _Module:
        if name in self.modules:
            return self.modules[name]
        if name in stack:
            raise BundleError(f"circular import between {' -> '.join((*stack, name))}")
        real = importlib.import_module(name)
        tree = ast.parse(inspect.getsource(real))
        mod = _Module(name, tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                target = _absolute(name, node)
                if target == "__future__":
                    continue
                if _internal(target, self.root):
                    for alias in node.names:
                        full = f"{target}.{alias.name}"
                        if _is_module(full):
                            self.add(full, (*stack, name))
                            mod.aliases[alias.asname or alias.name] = full
                        else:
                            self.add(target, (*stack, name))
                else:
                    self._external(name, target)
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if _internal(alias.name, self.root):
                        if not alias.asname:
                            raise BundleError(f"{name}: 'import {alias.name}' without 'as' is "
                                              "not supported in network code")
                        self.add(alias.name, (*stack, name))
                        mod.aliases[alias.asname] = alias.name
                    else:
                        self._external(name, alias.name)
        self._bind(mod, real)
        self.modules[name] = mod
        self.order.append(name)
        return mod

    def _external(self, module: str, target: str) -> None:
        if target.split(".")[0] not in ALLOWED_ROOTS:
            raise BundleError(f"{module} imports {target}: a zoo package's architecture may "
                              "only import torch and the standard library")

    def _bind(self, mod: _Module, real: types.ModuleType) -> None:
        """Give every name ``mod`` binds at top level its bundle name."""
        for node in mod.tree.body:
            for local in _top_level_names(node):
                obj = getattr(real, local, None)
                target = _absolute(mod.name, node) if isinstance(node, ast.ImportFrom) else ""
                if isinstance(node, ast.ImportFrom) and _internal(target, self.root):
                    source = self.modules.get(target)
                    original = next(a.name for a in node.names if (a.asname or a.name) == local)
                    if local in mod.aliases:
                        continue
                    if source is None:
                        raise BundleError(f"{mod.name}: cannot resolve {local}")
                    mod.rename[local] = source.rename.get(original, original)
                    continue
                if isinstance(node, ast.Import | ast.ImportFrom):
                    if local in self.bound and self.bound[local] is not obj:
                        raise BundleError(f"{mod.name}: {local!r} is imported as another "
                                          "object than in another network module")
                    self.bound[local] = obj
                    self.imports.setdefault(local, ast.unparse(_only(node, local)))
                    continue
                final = local
                if local in self.bound and self.bound[local] is not obj:
                    final = f"{local}__{mod.name.rsplit('.', 1)[-1]}"
                    while final in self.bound:
                        final += "_"
                self.bound[final] = obj
                mod.rename[local] = final


def _only(node: ast.Import | ast.ImportFrom, local: str) -> ast.stmt:
    """The import statement binding just ``local``."""
    names = [a for a in node.names if (a.asname or a.name).split(".")[0] == local]
    if isinstance(node, ast.Import):
        return ast.Import(names=names)
    return ast.ImportFrom(module=node.module, names=names, level=node.level)


def _top_level_names(node: ast.stmt) -> list[str]:
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return [node.name]
    if isinstance(node, ast.Import | ast.ImportFrom):
        if isinstance(node, ast.ImportFrom) and node.module == "__future__":
            return []
        return [(a.asname or a.name).split(".")[0] for a in node.names]
    targets: list[ast.expr] = []
    if isinstance(node, ast.Assign):
        targets = list(node.targets)
    elif isinstance(node, ast.AnnAssign | ast.AugAssign):
        targets = [node.target]
    names = []
    for target in targets:
        names += [n.id for n in ast.walk(target) if isinstance(n, ast.Name)]
    return [n for n in names if n not in ("__all__",)]


class _Rewrite(ast.NodeTransformer):
    """Apply a module's renames, resolve module aliases, drop imports and docstrings."""

    def __init__(self, bundler: _Bundler, mod: _Module) -> None:
        self.bundler, self.mod = bundler, mod
        self.top: set[ast.stmt] = set()

    def visit_Name(self, node: ast.Name) -> ast.AST:
        if node.id in self.mod.aliases:
            raise BundleError(f"{self.mod.name}: module alias {node.id!r} used as a value")
        node.id = self.mod.rename.get(node.id, node.id)
        return node

    def visit_Attribute(self, node: ast.Attribute) -> ast.AST:
        if isinstance(node.value, ast.Name) and node.value.id in self.mod.aliases:
            target = self.bundler.modules[self.mod.aliases[node.value.id]]
            return ast.copy_location(ast.Name(target.rename.get(node.attr, node.attr),
                                              node.ctx), node)
        return self.generic_visit(node)

    def _rename_def(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef
                    ) -> ast.AST:
        if node in self.top:
            node.name = self.mod.rename.get(node.name, node.name)
        return self.generic_visit(node)

    visit_FunctionDef = visit_AsyncFunctionDef = visit_ClassDef = _rename_def

    def visit_Import(self, node: ast.Import) -> ast.AST | None:
        return None if node in self.top else self._keep_external(node)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> ast.AST | None:
        return None if node in self.top else self._keep_external(node)

    def _keep_external(self, node: ast.Import | ast.ImportFrom) -> ast.AST | None:
        root = self.bundler.root
        if isinstance(node, ast.ImportFrom) and _internal(_absolute(self.mod.name, node), root):
            raise BundleError(f"{self.mod.name}: imports of i2i_nb inside functions are not "
                              "supported in network code")
        return node

    def run(self) -> list[ast.stmt]:
        body = list(self.mod.tree.body)
        if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
            body = body[1:]
        body = [node for node in body if not _is_main_guard(node) and not (
            isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "__all__"
                                                 for t in node.targets))]
        self.top = set(body)
        out = [self.visit(node) for node in body]
        return [node for node in out if node is not None]


def _is_main_guard(node: ast.stmt) -> bool:
    return isinstance(node, ast.If) and "__main__" in ast.unparse(node.test)


def architecture_source(factory: Callable[..., nn.Module] | None = None,
                        wrapper: Callable[..., nn.Module] | None = None) -> str:
    """Python source defining :data:`ENTRY`, the factory of every i2i_nb network.

    ``ENTRY(architecture, ndim, in_channels, out_channels, output_activations, **model_kwargs)``
    builds the network as :func:`i2i_nb.models.build_model` does, with the output activations
    of :func:`i2i_nb.activations.with_activations`, from a file that imports only torch and
    the standard library.

    Parameters
    ----------
    factory : callable, optional
        The factory to bundle with the modules of its package it imports (default
        :func:`i2i_nb.models.build_model`).
    wrapper : callable, optional
        ``wrapper(network, output_activations, out_channels)`` around it (default
        :func:`i2i_nb.activations.with_activations` with the default factory, else none).

    Raises
    ------
    BundleError
        The network code imports something else, or uses a form of import this does not
        resolve.
    """
    if factory is None:
        from i2i_nb.activations import with_activations as wrapper
        from i2i_nb.models import build_model as factory
    bundler = _Bundler(factory.__module__.split(".")[0])
    root = bundler.add(factory.__module__)
    entry_target = root.rename.get(factory.__name__, factory.__name__)
    call = f"{entry_target}(architecture, ndim, in_channels, out_channels, **model_kwargs)"
    if wrapper is not None:
        wrap = bundler.add(wrapper.__module__)
        call = (f"{wrap.rename.get(wrapper.__name__, wrapper.__name__)}({call}, "
                "output_activations, out_channels)")
    parts = [f'"""The networks of i2i_nb {_version()}, written as one file that imports only '
             'torch\nand the standard library (generated from i2i_nb.models)."""',
             "from __future__ import annotations", *sorted(set(bundler.imports.values()))]
    for name in bundler.order:
        mod = bundler.modules[name]
        parts.append(f"# ---- from {name} ----")
        parts += [ast.unparse(node) for node in _Rewrite(bundler, mod).run()]
    parts.append(
        f"def {ENTRY}(architecture: str, ndim: int, in_channels: int, out_channels: int,\n"
        f"        output_activations: Sequence[str] = (), **model_kwargs):\n"
        f'    """Build the network; the keyword arguments are those of the package."""\n'
        f"    return {call}")
    if "Sequence" not in bundler.bound:
        parts.insert(2, "from collections.abc import Sequence")
    return "\n\n".join(parts) + "\n"


def _version() -> str:
    from i2i_nb import __version__

    return __version__


def load_source(path: Path) -> types.ModuleType:
    """Import a file written by :func:`architecture_source` as an anonymous module."""
    spec = importlib.util.spec_from_file_location(f"_i2i_nb_bundle_{abs(hash(path))}", path)
    if spec is None or spec.loader is None:
        raise BundleError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while being defined
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[spec.name]
        raise
    return module


def check_source(source: str, kwargs: dict[str, Any], model: nn.Module,
                 example: torch.Tensor) -> float:
    """Build the network from ``source`` and the package's ``kwargs``, load ``model``'s weights
    strictly, and return the largest difference of its output on ``example``.

    Raises
    ------
    BundleError
        The file does not build the network, the weights do not fit it, or it computes
        something else (difference above 1e-4 of the output's range).
    """
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "i2i_nb_network.py"
        path.write_text(source)
        try:
            rebuilt = getattr(load_source(path), ENTRY)(**kwargs)
            rebuilt.load_state_dict(model.state_dict(), strict=True)
        except Exception as err:  # noqa: BLE001 - any failure means the file is unusable
            raise BundleError(f"the generated architecture file does not rebuild the network: "
                              f"{type(err).__name__}: {err}") from err
    rebuilt.eval()
    with torch.inference_mode():
        expected, got = model(example), rebuilt(example)
    diff = float((expected - got).abs().max())
    scale = float(expected.abs().max()) or 1.0
    if not diff <= 1e-4 * scale:
        raise BundleError(f"the generated architecture file computes another output "
                          f"(max difference {diff:.3g})")
    return diff
