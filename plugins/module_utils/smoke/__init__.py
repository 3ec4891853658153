# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Post-deploy smoke checks: requests with response assertions (status, JSON path, body, latency budget)."""
