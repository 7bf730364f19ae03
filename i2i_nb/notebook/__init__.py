"""The notebook layer: the only code that knows IPython and ipywidgets.

Each module serves one section of the notebooks: ``environment`` (set-up),
``settings`` (the parameters cell as a config), ``data_step`` (data), ``form``
(parameter form), ``training`` and ``results``. Nothing is imported here, so that
``environment`` works before the package's dependencies are installed (Colab).
"""
