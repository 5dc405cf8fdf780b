"""Recording events in tests."""

from __future__ import annotations

from collections.abc import Iterator

from ..events import Event, EventBus


class EventRecorder:
    """Subscribes to every event of a bus and keeps them, in delivery order.

    >>> bus = EventBus()
    >>> recorder = EventRecorder(bus)
    >>> recorder.types()
    []
    """

    def __init__(self, bus: EventBus) -> None:
        self.events: list[Event] = []
        self.subscription = bus.subscribe(self.events.append)

    def types(self) -> list[str]:
        """The ``type`` of each recorded event, in order."""
        return [event.type for event in self.events]

    def __iter__(self) -> Iterator[Event]:
        return iter(self.events)

    def clear(self) -> None:
        """Forget what was recorded."""
        self.events.clear()
