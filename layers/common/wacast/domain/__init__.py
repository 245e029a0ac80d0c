"""Pure domain code: entities, the delivery state machine, pacing, templates. No I/O, no clock reads."""
