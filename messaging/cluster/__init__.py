"""Desks on several machines under one coordinator, joined over Redis Streams: the hand-over
lane of the coordinator, the desk that joins it from another machine, and their wire format.
Loaded only when ``cluster.redis_url`` is set or ``cellphone desk`` runs."""
