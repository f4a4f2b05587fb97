"""The ``flyte2-local-service`` console script (being written)."""


def main() -> None:
    raise SystemExit("flyte2-local-service: not ready yet")
