"""What stops a Flyte execution when Airflow stops the task instance that owns it.

Airflow tells a deferred task's trigger (``on_kill``) only when a triggerer runs that trigger, and
tells a running task's process (``on_kill``) only through its heartbeat. A run of many tasks
marked failed slips past both: triggers not yet picked up, deferrals refused because the run was
failed meanwhile, executions launched in the same second. So the API server and the scheduler,
which make those state changes, stop the executions themselves:

- ``records``: before launching, a task that would terminate on kill writes what it is about to
  own (connection, project, domain, execution name) to an XCom, in Airflow's own database.
- ``listener``: Airflow's listener hooks in the API server and scheduler (a task instance marked
  failed/success/skipped, a dag run failed or timed out) hand the task instances to...
- ``reaper``: a background thread of that process that reads the records and terminates the
  executions, looking again a few times over 30 seconds for launches that raced the stop; it
  never blocks or fails the API request or the scheduler loop.
- ``plugin``: registers the listener (an ``airflow.plugins`` entry point).
"""
