# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # Where and in which formats the modules that write the checklist's report model (checklist_report,
    # dr_drill) publish it; mirrors checklist.publish.report_argument_spec(). Each module documents its own title.
    DOCUMENTATION = r"""
options:
  report_dir:
    description: Where the reports go; default C(<run_dir>/report).
    type: path
  formats:
    description: Report formats besides C(json), which is always written.
    type: list
    elements: str
    choices: [json, markdown, html, junit]
    default: [json, markdown, html, junit]
"""
