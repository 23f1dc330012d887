"""Live events (contract §8, `Subscription.events`): every stored event reaches the
subscribers of its site, in every `goalpost serve` process.

- hub.py: this process's subscribers, each with a bounded queue (a slow one is cut off, never
  waited for);
- feed.py: how stored events reach the hubs: in-process on SQLite, LISTEN/NOTIFY on PostgreSQL.
"""
