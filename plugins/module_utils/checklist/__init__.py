# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The 12-item pre-deployment checklist: items, evaluation of the run directory, sign-off, reports."""
