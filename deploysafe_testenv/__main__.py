"""testenv CLI: `python -m deploysafe_testenv up|down|status|env`.

  up [--with k8s,prometheus] [--only postgres]   start services detached (they outlive this command)
  down                                            stop them and delete the run directory
  status                                          which services run, with pids and ports
  env [--json]                                    connection settings as shell exports or JSON
The run directory is --dir, $DEPLOYSAFE_TESTENV_DIR, or /tmp/deploysafe-testenv-<uid>.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
from pathlib import Path

from deploysafe_testenv.env import DEFAULT_SERVICES, SERVICES, TestEnv
from deploysafe_testenv.process import ServiceError


def _names(csv: str) -> list:
    return [n for n in (csv or "").replace(" ", ",").split(",") if n]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="deploysafe_testenv", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dir", default=os.environ.get("DEPLOYSAFE_TESTENV_DIR",
                                                        f"/tmp/deploysafe-testenv-{os.getuid()}"))
    sub = parser.add_subparsers(dest="cmd", required=True)
    up = sub.add_parser("up")
    up.add_argument("--with", dest="extra", default="", help=f"extra services: {', '.join(SERVICES)}")
    up.add_argument("--only", default="", help="start exactly these services (and what they need)")
    sub.add_parser("down")
    sub.add_parser("status")
    env_cmd = sub.add_parser("env")
    env_cmd.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    root = Path(args.dir).absolute()

    if args.cmd == "up":
        env = TestEnv(root, attached=False)
        names = _names(args.only) or DEFAULT_SERVICES + _names(args.extra)
        try:
            for info in env.start(*names):
                print(f"started {info.name}: pids {info.pids}, ports {info.ports}", file=sys.stderr)
        except ServiceError as exc:
            print(f"testenv: {exc}", file=sys.stderr)
            env.down()
            print("testenv: stopped the services that had started", file=sys.stderr)
            return 1
        print(f"test environment up in {root}; `python -m deploysafe_testenv env` prints its settings",
              file=sys.stderr)
        return 0
    if not (root / "state.json").exists():
        if args.cmd == "down":
            return 0
        print(f"testenv: nothing is running under {root}", file=sys.stderr)
        return 1
    env = TestEnv(root, attached=False)
    if args.cmd == "down":
        names = list(env.services)
        env.down()
        print(f"stopped {', '.join(names) or 'nothing'}; removed {root}", file=sys.stderr)
    elif args.cmd == "status":
        status = env.status()
        for name, st in status.items():
            print(f"{name:12} {'up' if st['alive'] else 'DOWN':5} pids={st['pids']} ports={st['ports']}")
        return 0 if all(st["alive"] for st in status.values()) else 1
    elif args.cmd == "env":
        exports = env.exports()
        if args.json:
            print(json.dumps({"exports": exports, "services": {k: v.data for k, v in env.services.items()}},
                             indent=2))
        else:
            for key, value in exports.items():
                print(f"export {key}={shlex.quote(value)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
