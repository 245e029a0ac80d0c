"""The embedded local stack: a moto server, resources derived from template.yaml, event-source
pollers, a scheduler emulator, the API and the session host, in one process. No Docker, no AWS."""
