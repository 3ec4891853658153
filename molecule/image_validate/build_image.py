"""Write a small OCI archive (root user, no labels) for the image_validate scenario."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests/unit/plugins/module_utils/image"))
from ocibuild import CLEAN_LAYER, build, default_config, layer_bytes  # noqa: E402

out = Path(sys.argv[1])
out.mkdir(parents=True, exist_ok=True)
config = default_config(User="")
config["Labels"] = {}
print(build(out, [layer_bytes(CLEAN_LAYER)], config, tag="registry.example/app:1.0"))
