"""Installed test distributions: a module and a .dist-info with its entry points, as pip leaves
them, in a folder that the test puts on the path (of this process or of a subprocess)."""

from __future__ import annotations

import textwrap
from pathlib import Path

COURIER = """
    # Posts each action's key to the URL the policy gives: a helpdesk API stand-in whose
    # receiver counts deliveries by key.
    import httpx
    from slarules import ActionError, ActionSpec, hookimpl

    client = httpx.Client(timeout=5.0)  # pooled connections, as an adapter keeps them

    def post(action, context):
        timeout = float(context.settings.get("timeout", "5"))
        try:
            response = client.post(action.args[0], json={"key": action.key}, timeout=timeout,
                                   headers={"Idempotency-Key": action.key})
        except httpx.HTTPError as error:
            raise ActionError(f"receiver unreachable: {error}") from None
        if response.status_code >= 300:
            retry_after = response.headers.get("retry-after")
            raise ActionError(f"receiver answered {response.status_code}",
                              retry_after=float(retry_after) if retry_after else None,
                              permanent=400 <= response.status_code < 500
                              and response.status_code != 429)

    @hookimpl
    def slarules_actions():
        return [ActionSpec(name="post", summary="POST the action's key", execute=post)]
"""


def install_distribution(site: Path, name: str, entry_points: str, module: str, code: str) -> None:
    """A distribution as pip leaves it: a module and a .dist-info with its entry points."""
    (site / f"{module}.py").write_text(textwrap.dedent(code))
    info = site / f"{name.replace('-', '_')}-1.2.3.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.2.3\n")
    (info / "entry_points.txt").write_text(textwrap.dedent(entry_points))


def install_courier(site: Path) -> None:
    install_distribution(
        site, "test-courier", "[slarules]\ncourier = test_courier\n", "test_courier", COURIER
    )
