"""Use cases. Services talk only to ports; bootstrap wires the adapters."""
