"""Write the published documents: ``python -m kmbase_workflow.service [FOLDER]`` (default
docs/reference): openapi.json and application.schema.json, generated from the records."""

import sys
from pathlib import Path

from . import reference_documents

folder = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/reference")
folder.mkdir(parents=True, exist_ok=True)
for name, text in reference_documents().items():
    (folder / name).write_text(text, encoding="utf-8")
    print(folder / name)
