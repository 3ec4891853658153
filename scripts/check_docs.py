"""Every module must render with ansible-doc (docs are YAML that parses and matches the schema)."""

import json
import subprocess
import sys
from pathlib import Path

modules = sorted(p.stem for p in Path("plugins/modules").glob("*.py") if p.stem != "__init__")
failed = []
for name in modules:
    fqcn = f"deploysafe.preflight.{name}"
    run = subprocess.run(["ansible-doc", "--json", fqcn], capture_output=True, text=True)
    doc = json.loads(run.stdout or "{}").get(fqcn, {}) if run.returncode == 0 else {}
    if not doc.get("doc") or not doc.get("examples") or doc.get("return") is None:
        failed.append(f"{fqcn}: {run.stderr.strip() or 'missing DOCUMENTATION/EXAMPLES/RETURN'}")
listed = subprocess.run(["ansible-doc", "-l", "deploysafe.preflight"], capture_output=True, text=True).stdout
missing = [m for m in modules if f"deploysafe.preflight.{m} " not in listed]
if missing:
    failed.append(f"ansible-doc -l does not list: {', '.join(missing)}")
for line in failed:
    print("FAIL", line)
print(f"ansible-doc: {len(modules) - len(failed)} of {len(modules)} modules render")
sys.exit(1 if failed else 0)
