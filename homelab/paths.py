"""Where the project is: the folder of ``Pulumi.yaml``, the program and the stack files.

The package is installed editable into ``.venv`` (``tools/setup.sh``), so this is the checkout
it was installed from."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
