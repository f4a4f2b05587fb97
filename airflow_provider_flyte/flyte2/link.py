"""The "Flyte 2 Run" button on the task instance page.

The operator pushes the run's console URL under this link's XCom key as soon as the run exists,
so the button works while the task still waits, not only after it ends (Flyte 1's link, under
its own name and key).
"""

from __future__ import annotations

from airflow_provider_flyte.links.flyte import FlyteExecutionLink


class Flyte2RunLink(FlyteExecutionLink):
    name = "Flyte 2 Run"
