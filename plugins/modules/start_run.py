#!/usr/bin/python
# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: start_run
short_description: Start or join the release run that every verdict in a run directory belongs to
version_added: 0.1.0
description:
  - Writes C(<run_dir>/run.json) with a new C(run_id) and the release identity (image digest, manifests
    hash, git commit, and any O(release) keys you give), or joins the run named by O(run_id).
  - M(deploysafe.preflight.record_verdict) stamps every verdict with the run it belongs to, and
    M(deploysafe.preflight.checklist_report) treats a verdict from another run as C(pending). So a run
    directory reused for a new release can never let the earlier run's C(pass) stand for this one.
  - Separate jobs of one release run (AWX workflow nodes, several playbooks) join the run by passing the
    C(run_id) the first job returned (it is also published as the AWX artifact C(preflight_run_id) by
    C(playbooks/predeploy.yml)). Joining a directory that belongs to another run fails, as does joining
    with a release identity that contradicts the one the run was started for.
options:
  run_dir:
    description: Directory of the pre-deployment run; created when missing.
    type: path
    required: true
  run_id:
    description:
      - Join this run instead of starting a new one. Empty starts a new run (a new id, whatever the
        directory held before).
    type: str
    default: ""
  image:
    description: Path of the image about to ship (OCI archive or layout); its digest joins the release identity.
    type: path
  manifests:
    description: Kubernetes manifest files or directories about to ship; one hash over them joins the release identity.
    type: list
    elements: path
    default: []
  repo:
    description: Git work tree of the release; its HEAD commit joins the release identity.
    type: path
  release:
    description: More release identity (for example C(version), C(change_ticket)); stored as given.
    type: dict
    default: {}
extends_documentation_fragment:
  - deploysafe.preflight.attributes
attributes:
  check_mode:
    support: full
    details: Computes the run (a new id is returned but not stored) and writes nothing.
  diff_mode:
    support: full
    details: Shows C(run.json) before and after.
author:
  - deploysafe.preflight contributors (@deploysafe)
"""

EXAMPLES = r"""
- name: Start the release run (first job of the workflow)
  deploysafe.preflight.start_run:
    run_dir: /var/lib/preflight/release-42
    image: /builds/app.oci.tar
    manifests: [/builds/k8s]
    repo: /builds/src
    release:
      version: "2.4.0"
  register: run

- name: Join it from a later job (run_id handed over as an AWX artifact or extra variable)
  deploysafe.preflight.start_run:
    run_dir: /var/lib/preflight/release-42
    run_id: "{{ preflight_run_id }}"
"""

RETURN = r"""
run_id:
  description: The id of the run started or joined.
  returned: always
  type: str
  sample: 20261203T074512Z-9f3a61c2b0d4
joined:
  description: Whether an existing run was joined (true) or a new one started (false).
  returned: always
  type: bool
release:
  description: The release identity recorded for the run.
  returned: always
  type: dict
  sample: {"image_digest": "sha256:4d1c...", "manifests_sha256": "sha256:09ab...", "repo_commit": "3f2e9c1"}
path:
  description: Path of C(run.json).
  returned: always
  type: str
record:
  description: The run record (C(format), C(run_id), C(release), C(started_at), C(producer)).
  returned: always
  type: dict
"""

import json
import os

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.deploysafe.preflight.plugins.module_utils.run import (
    RUN_FILE, RunError, release_identity, start_or_join, store_run,
)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            run_dir=dict(type="path", required=True),
            run_id=dict(type="str", default=""),
            image=dict(type="path"),
            manifests=dict(type="list", elements="path", default=[]),
            repo=dict(type="path"),
            release=dict(type="dict", default={}),
        ),
        supports_check_mode=True,
    )
    p = module.params
    path = os.path.join(p["run_dir"], RUN_FILE)
    try:
        release = release_identity(p["image"] or "", p["manifests"], p["repo"] or "", p["release"])
        changed, record, before = start_or_join(p["run_dir"], p["run_id"] or "", release)
        if changed and not module.check_mode:
            store_run(p["run_dir"], record)
    except RunError as exc:
        module.fail_json(msg=f"start_run: {exc}")
    except OSError as exc:
        module.fail_json(msg=f"start_run: cannot write {path}: {exc.strerror or exc}")
    result = dict(changed=changed, run_id=record["run_id"], joined=bool(p["run_id"]), release=record["release"],
                  path=path, record=record)
    if module._diff:
        result["diff"] = dict(before=json.dumps(before, indent=2, sort_keys=True) + "\n" if before else "",
                              after=json.dumps(record, indent=2, sort_keys=True) + "\n",
                              before_header=path, after_header=path)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
