# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Parse the Prometheus text exposition format (enough for gauges, counters and histograms)."""

from __future__ import annotations

import math
import re
from typing import Dict, List, Optional, Tuple

from ..errors import PreflightError

_LINE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)(\s+\S+)?$')
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')

Sample = Tuple[str, Dict[str, str], float]


class PromTextError(PreflightError, ValueError):
    """The text is not in the Prometheus exposition format."""


def parse(text: str) -> List[Sample]:
    """Return (name, labels, value) for every sample line; comments and blank lines are skipped."""
    out: List[Sample] = []
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        match = _LINE.match(line)
        if not match:
            raise PromTextError(f"line {number} is not a metric sample: {line[:120]!r}")
        name, raw_labels, raw_value = match.group(1), match.group(3), match.group(4)
        labels = {k: v.replace('\\"', '"').replace("\\\\", "\\") for k, v in _LABEL.findall(raw_labels or "")}
        try:
            value = float(raw_value.replace("+Inf", "inf").replace("-Inf", "-inf"))
        except ValueError:
            raise PromTextError(f"line {number}: value {raw_value!r} is not a number") from None
        out.append((name, labels, value))
    return out


def value(samples: List[Sample], name: str, **labels: str) -> Optional[float]:
    """Sum of the samples named `name` whose labels include `labels`; None when there is none."""
    found = [v for n, lab, v in samples if n == name and all(lab.get(k) == w for k, w in labels.items())]
    if not found:
        return None
    total = sum(found)
    return None if math.isnan(total) else total
