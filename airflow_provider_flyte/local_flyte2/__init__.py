"""A local Flyte 2 run service: what the Flyte 2 SDK and our Flyte 2 hook talk to on loopback."""
