# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # The restore safety net of pg_restore and s3_restore (module_utils/archive/prerestore.py); each module
    # says in its own description what "holds something" means for its target and which backup code path runs.
    DOCUMENTATION = r"""
options:
  pre_restore_backup:
    description:
      - When O(force=true) overwrites a target that holds something, first back that target up with the
        collection's own backup code path into O(pre_restore_dest), and verify the archive (stored bytes, blocks,
        and the plaintext when a key given here opens it). If that backup or its verification fails, nothing is
        restored and the task fails with the target untouched.
      - The backup is returned in RV(pre_restore_backup) and added to the verdict's artifacts;
        C(playbooks/undo_restore.yml) puts it back. An empty or missing target needs no backup (RV(pre_restore_backup)
        says so).
      - V(false) overwrites without a safety net (a warning says so).
    type: bool
    default: true
    version_added: 0.1.0
  pre_restore_dest:
    description:
      - Local directory of the pre-restore backup (created, mode 0700, when missing); default C(pre-restore/) beside
        the backup restored.
    type: path
    version_added: 0.1.0
  pre_restore_encrypt_recipients:
    description:
      - age public keys the pre-restore backup is encrypted to. When the backup restored is encrypted the default is
        the public keys of O(identity_file), so the key that opened the backup opens the undo; a plaintext
        pre-restore copy is never written for an encrypted backup (an SSH O(identity_file) then needs this option).
        A plaintext backup's default is no encryption.
    type: list
    elements: str
    default: []
    version_added: 0.1.0
notes:
  - The restore safety net and the undo playbook are described in C(docs/restore-undo.md).
"""
