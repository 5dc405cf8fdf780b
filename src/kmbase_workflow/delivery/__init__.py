"""Delivery of the outbox to other systems: durable consumers, webhooks and the worker."""

from __future__ import annotations

from .queue import ConsumerStatus, DeadLetter, Delivery, DeliveryQueue, QueueStatus

__all__ = ["ConsumerStatus", "DeadLetter", "Delivery", "DeliveryQueue", "QueueStatus"]
