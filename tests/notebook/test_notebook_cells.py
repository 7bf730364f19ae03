"""Static checks of the committed notebooks: built from one cell list, thin cells, no outputs."""

import ast
import importlib.util
from pathlib import Path

import nbformat
import pytest
from IPython.core.inputtransformer2 import TransformerManager

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
FORBIDDEN = (ast.For, ast.AsyncFor, ast.While, ast.If, ast.IfExp, ast.FunctionDef,
             ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda, ast.ListComp, ast.SetComp,
             ast.DictComp, ast.GeneratorExp, ast.With, ast.AsyncWith, ast.Try, ast.TryStar)


def _builder():
    spec = importlib.util.spec_from_file_location("build_notebooks",
                                                  NOTEBOOKS / "build_notebooks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _code_cells(path):
    cells = [c for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]
    return [(c, ast.parse(TransformerManager().transform_cell(c.source))) for c in cells]


@pytest.fixture(params=[2, 3], ids=["2d", "3d"])
def notebook(request):
    return NOTEBOOKS / _builder().notebook_name(request.param)


def test_committed_notebooks_are_the_build_output_without_outputs(notebook):
    builder = _builder()
    ndim = 3 if "3d" in notebook.name else 2
    committed = nbformat.read(notebook, as_version=4)
    nbformat.validate(committed)
    assert committed == builder.build(ndim), "run python notebooks/build_notebooks.py"
    assert all(not c.get("outputs") and c.get("execution_count") is None
               for c in committed.cells if c.cell_type == "code")


def test_one_parameters_cell_of_plain_literals(notebook):
    cells = _code_cells(notebook)
    tagged = [tree for cell, tree in cells if "parameters" in cell.metadata.get("tags", [])]
    assert len(tagged) == 1
    for node in tagged[0].body:
        assert isinstance(node, ast.Assign) and len(node.targets) == 1
        ast.literal_eval(node.value)


def test_other_cells_have_no_control_flow(notebook):
    for cell, tree in _code_cells(notebook):
        if "parameters" in cell.metadata.get("tags", []):
            continue
        found = [type(node).__name__ for node in ast.walk(tree) if isinstance(node, FORBIDDEN)]
        assert not found, f"{found} in cell:\n{cell.source}"
        assert len(tree.body) <= 3, cell.source


def test_every_parameter_is_used_later(notebook):
    cells = _code_cells(notebook)
    index = next(i for i, (cell, _) in enumerate(cells)
                 if "parameters" in cell.metadata.get("tags", []))
    assigned = {node.targets[0].id for node in cells[index][1].body}
    used = {node.id for _, tree in cells[index + 1:] for node in ast.walk(tree)
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)}
    assert assigned - used == set()
    assert {"data_source", "data_dir", "train_x", "train_y", "test_x", "test_y", "patch_size",
            "architecture", "epochs", "batch_size", "learning_rate", "normalization",
            "tile_overlap", "result_dir", "name", "run_id", "device", "resume",
            "predict_images", "predict_checkpoint",
            "test_time_augmentation"} == assigned


def test_2d_and_3d_code_differs_only_where_ndim_is_a_value():
    builder = _builder()
    two, three = builder.build(2), builder.build(3)
    differing = {builder.CELLS[i][1] for i, (a, b) in enumerate(zip(two.cells, three.cells,
                                                                     strict=True))
                 if a.source != b.source and a.cell_type == "code"}
    assert differing == {builder.PARAMETERS, builder.PREPARE}
