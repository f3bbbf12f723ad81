"""Hypothesis profiles, loaded from tests/conftest.py before any test module is imported.

* ``ci``: the same examples on every run (derandomized, no example database), so a CI
  failure is reproducible and a pass is not luck; ``print_blob`` prints how to replay
  a failure locally.
* ``dev`` (the local default): random exploration, with failures kept in .hypothesis/
  and replayed first on the next run. A failure found here becomes an ``@example``.

``HYPOTHESIS_PROFILE=ci|dev`` chooses; otherwise ``CI=true`` (set by CI services) means ``ci``.
Per-test ``@settings(...)`` inherit from the loaded profile: set only what must differ.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

# Both start from hypothesis' "default" profile, not from the current default, which
# hypothesis itself switches to its own "ci" profile wherever a CI variable is set.
_BASE = settings.get_profile("default")
# No deadline and no too_slow check: timings vary between machines, the examples must not.
settings.register_profile(
    "ci",
    _BASE,
    derandomize=True,
    database=None,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", _BASE, derandomize=False, deadline=None)

PROFILE = os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI", "").lower() == "true" else "dev")
settings.load_profile(PROFILE)
