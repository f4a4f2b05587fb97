"""The triggerer's shared watcher: every deferred Flyte wait in a process, for the cost of a few.

Airflow's triggerer runs up to a thousand triggers in one event loop. Instead of each building its
own channel, fetching its own OAuth2 token and polling ``GetExecution`` on its own schedule:

- ``pool``: one FlyteAdmin client (channel and token source) per connection per event loop,
  shared by every trigger, ``on_kill`` and async hook call in it; the last user closes it.
- ``executions``: one watcher per (connection, project, domain) that asks about all the
  executions it watches in batched, paged ``ListExecutions`` calls and wakes each waiter when its
  execution ends, reading a terminal execution once more with ``GetExecution`` because the list
  trims error messages.

Nothing here is imported at DAG-parse time: triggers import it inside ``run``.
"""
